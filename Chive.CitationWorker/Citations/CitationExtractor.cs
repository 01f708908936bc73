using System.Diagnostics;
using Chive.CitationWorker.Extraction;
using Chive.Contracts.Citations;
using Npgsql;

namespace Chive.CitationWorker.Citations;

/// <summary>
/// One eprint's citations, end to end: its PDF from its PDS → GROBID's references; its DOI or S2 id → Semantic Scholar's
/// reference list; GROBID's references with a DOI enriched by one S2 batch lookup; citations still lacking a title, year
/// or venue completed from Crossref; merged (<see cref="CitationMerger"/>), matched to our eprints
/// (<see cref="CitationMatcher"/>) and stored in one transaction (<see cref="CitationStore"/>).
/// <para>
/// A failure of one source never fails the eprint: what the others found is stored, and the extraction is recorded as
/// incomplete so the next run does it again even if the document did not change. Only the database failing throws
/// (the unit is then retried). The returned totals are this eprint's share of the operation's.
/// </para>
/// </summary>
public sealed class CitationExtractor(
    DocumentFetcher documents,
    GrobidClient grobid,
    SemanticScholarClient semanticScholar,
    CrossrefClient crossref,
    CitationStore store,
    NpgsqlDataSource dataSource,
    CitationMetrics metrics,
    ILogger<CitationExtractor> logger)
{
    public async Task<CitationTotals> ExtractAsync(EprintToExtract eprint, Guid operationId, bool force, CancellationToken cancellationToken)
    {
        var previous = await store.StateAsync(eprint.Uri, cancellationToken);
        if (previous?.OperationId == operationId)
        {
            // This operation already did it (the unit is running again after a crash): report what it found then.
            return CitationTotals.Zero with { EprintsProcessed = 1, CitationsExtracted = previous.Citations, CitationsMatched = previous.Matched };
        }

        if (!force && previous is { Complete: true } && previous.DocumentBlobCid == eprint.DocumentBlobCid)
        {
            return CitationTotals.Zero with { EprintsProcessed = 1, SkippedUnchanged = 1 };
        }

        var tally = new LookupTally();
        var totals = CitationTotals.Zero with { EprintsProcessed = 1 };
        var complete = true;

        // GROBID: the document's own reference list.
        IReadOnlyList<ExtractedReference> references = [];
        var watch = Stopwatch.StartNew();
        if (!eprint.HasPdf)
        {
            totals = totals with { PdfMissing = 1 };
            metrics.Extraction(CitationSources.Grobid, "skipped", watch.Elapsed);
        }
        else
        {
            await using var document = await documents.FetchAsync(eprint, cancellationToken);
            switch (document.Outcome)
            {
                case DocumentOutcome.Missing:
                    totals = totals with { PdfMissing = 1 };
                    metrics.Extraction(CitationSources.Grobid, "skipped", watch.Elapsed);
                    break;
                case DocumentOutcome.Unavailable:
                    totals = totals with { PdfUnavailable = 1 };
                    complete = false;
                    metrics.Extraction(CitationSources.Grobid, "skipped", watch.Elapsed);
                    break;
                default:
                    try
                    {
                        references = await grobid.ReferencesAsync(document.File!, cancellationToken);
                        metrics.Extraction(CitationSources.Grobid, references.Count > 0 ? "success" : "empty", watch.Elapsed);
                    }
                    catch (GrobidException ex)
                    {
                        logger.LogWarning("GROBID failed on {Uri}: {Reason}", eprint.Uri, ex.Message);
                        totals = totals with { GrobidFailures = 1 };
                        complete = false;
                        metrics.Extraction(CitationSources.Grobid, "error", watch.Elapsed);
                    }

                    break;
            }
        }

        // Semantic Scholar: the eprint's reference list, and the papers behind GROBID's DOIs.
        watch.Restart();
        IReadOnlyList<CitedWork> s2References = [];
        Dictionary<string, CitedWork?> enrichment = new(StringComparer.Ordinal);
        var s2Status = "skipped";
        try
        {
            if (eprint.SemanticScholarPaperId is { } paperId)
            {
                var found = await semanticScholar.ReferencesAsync(paperId, tally, cancellationToken);
                s2References = found ?? [];
                s2Status = found is null ? "not_found" : "success";
            }

            var dois = references.Where(r => r.Doi is not null).Select(r => r.Doi!).ToList();
            if (dois.Count > 0)
            {
                enrichment = await semanticScholar.PapersByDoiAsync(dois, tally, cancellationToken);
                s2Status = s2Status == "not_found" ? s2Status : "success";
            }
        }
        catch (UpstreamException ex)
        {
            logger.LogWarning("Semantic Scholar failed on {Uri}: {Reason}", eprint.Uri, ex.Message);
            tally.Failure();
            complete = false;
            s2Status = "error";
        }

        metrics.Extraction(CitationSources.SemanticScholar, s2Status, watch.Elapsed);

        var merger = new CitationMerger();
        foreach (var reference in references)
        {
            merger.AddGrobid(reference, reference.Doi is { } doi ? enrichment.GetValueOrDefault(doi) : null);
        }

        foreach (var work in s2References)
        {
            merger.AddSemanticScholar(work);
        }

        // Crossref: only for what is still incomplete, one DOI at a time at the pool's pace.
        watch.Restart();
        var crossrefStatus = "skipped";
        foreach (var doi in merger.IncompleteDois())
        {
            try
            {
                if (await crossref.WorkAsync(doi, tally, cancellationToken) is { } work)
                {
                    merger.AddCrossref(doi, work);
                    crossrefStatus = "success";
                }
                else if (crossrefStatus == "skipped")
                {
                    crossrefStatus = "not_found";
                }
            }
            catch (UpstreamException ex)
            {
                logger.LogWarning("Crossref failed on {Doi} of {Uri}: {Reason}", doi, eprint.Uri, ex.Message);
                tally.Failure();
                complete = false;
                crossrefStatus = "error";
                break; // the rest of this eprint's DOIs would most likely fail the same way
            }
        }

        metrics.Extraction(CitationSources.Crossref, crossrefStatus, watch.Elapsed);

        IReadOnlyList<Citation> citations;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        {
            citations = await CitationMatcher.MatchAsync(connection, eprint.Uri, merger.Citations(), cancellationToken);
        }

        var written = await store.WriteAsync(eprint, citations, complete, operationId, previous, cancellationToken);
        if (written)
        {
            metrics.Stored(citations);
        }

        logger.LogDebug("{Uri}: {Citations} citations ({Matched} ours), {References} from GROBID, {S2} from Semantic Scholar; complete {Complete}, written {Written}",
            eprint.Uri, citations.Count, citations.Count(c => c.MatchUri is not null), references.Count, s2References.Count, complete, written);
        return totals with
        {
            CitationsExtracted = citations.Count,
            CitationsMatched = citations.Count(c => c.MatchUri is not null),
            S2Lookups = tally.S2Lookups,
            S2NotFound = tally.S2NotFound,
            CrossrefLookups = tally.CrossrefLookups,
            CacheHits = tally.CacheHits,
            LookupFailures = tally.Failures,
            EprintsWritten = written ? 1 : 0,
        };
    }
}
