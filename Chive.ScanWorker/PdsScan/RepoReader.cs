using System.Diagnostics;
using Chive.AtProto.Identifiers;
using Chive.AtProto.Identity;
using System.Text.Json;
using Chive.AtProto.Net;
using Chive.AtProto.Repo;
using Chive.AtProto.Xrpc;
using Chive.Contracts.Operations;
using Chive.Contracts.PdsScan;
using Microsoft.Extensions.Options;

namespace Chive.ScanWorker.PdsScan;

/// <summary>
/// How the reading of one repo ended and, when it was read as a signed CAR, the commit read — its revision and CID, the
/// state the index now holds (recorded for the freshness scan in place of what a listing said before the read).
/// </summary>
public readonly record struct RepoReadResult(RepoRead Outcome, string? Rev = null, string? CommitCid = null)
{
    public static implicit operator RepoReadResult(RepoRead outcome) => new(outcome);
}

/// <summary>How the reading of one repo ended.</summary>
public enum RepoRead
{
    /// <summary>Every Chive collection listed completely and cleanly (and swept): the repo is exactly what we now hold.</summary>
    Complete,

    /// <summary>Read, but some listing was not clean (foreign or invalid entries, a record listed twice): nothing swept there.</summary>
    Partial,

    /// <summary>No Chive collection named, none held: nothing to read.</summary>
    Empty,

    /// <summary>The repo is unavailable, or the PDS's answers about it were unusable: skipped, nothing swept.</summary>
    Skipped,

    /// <summary>Its DID document names another PDS (or could not be resolved): nothing taken from this PDS.</summary>
    NotHosted,

    /// <summary>Its CAR did not verify (verified mode): nothing indexed or swept; the reason is in <see cref="PdsProgress.Unverified"/>.</summary>
    Unverified,
}

/// <summary>
/// Reads one repo from one PDS into a <see cref="ScanBatcher"/>: one <c>describeRepo</c>; then, if the repo's DID
/// document names this PDS, every page of every <c>pub.chive.*</c> collection it names or we hold for it, and after each
/// complete, clean listing a sweep of what we hold there that the PDS no longer has. A repo without Chive data costs one
/// request. Nothing a PDS says is believed beyond what it may speak for: records only under the URI of the repo and
/// collection asked for, sweeps only after the collection's own listing — never because <c>describeRepo</c> stopped
/// naming it. A cursor that comes round again throws <see cref="ScanLimitReachedException"/>; so do the caps.
/// Used by the PDS scan, the DID sync and the freshness scan.
/// </summary>
public sealed class RepoReader(XrpcClient xrpc, DidResolver resolver, IOptions<SyncOptions> sync, TimeProvider time, ILogger<RepoReader> logger)
{
    public async Task<RepoReadResult> ReadAsync(
        ScanBatcher batcher, Uri pds, Did did, IReadOnlySet<string> held, string deletionSource, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        List<string> collections;
        try
        {
            batcher.Spend();
            var description = await xrpc.DescribeRepoAsync(pds, did, cancellationToken);
            collections = description.Collections.Select(c => c.Value).Where(ChiveCollections.IsChive)
                .Union(held).Distinct().Order(StringComparer.Ordinal).ToList();
        }
        catch (XrpcException ex) when (IsAboutTheRepo(ex))
        {
            return Skip(batcher, pds, did, ex);
        }

        if (collections.Count == 0)
        {
            batcher.Totals = batcher.Totals with { ReposDone = batcher.Totals.ReposDone + 1 };
            return RepoRead.Empty;
        }

        var described = Stopwatch.GetTimestamp();
        if (!await IsHostedAsync(batcher, pds, did, cancellationToken))
        {
            return RepoRead.NotHosted;
        }

        await batcher.ReadingFromAsync(ServiceOrigin.Normalize(pds));
        if (sync.Value.Mode == SyncMode.Verified)
        {
            return await ReadVerifiedAsync(batcher, pds, did, collections, deletionSource, (started, described, Stopwatch.GetTimestamp()), cancellationToken);
        }

        var complete = true;
        foreach (var collection in collections)
        {
            var listedFrom = time.GetUtcNow();
            var present = new HashSet<string>(StringComparer.Ordinal);
            var clean = true;
            var trail = CursorTrail.Start;
            string? cursor = null;
            try
            {
                do
                {
                    batcher.Spend();
                    var page = await xrpc.ListRecordsPageAsync(pds, did, Nsid.Parse(collection), cursor, 100, cancellationToken);
                    foreach (var record in page.Records)
                    {
                        if (present.Add(record.Uri.RecordKey.Value))
                        {
                            await batcher.AddAsync(record);
                        }
                        else
                        {
                            clean = false; // the same record listed twice: not a listing we sweep by
                        }
                    }

                    clean &= page.IsClean;
                    if (page.ForeignEntries > 0)
                    {
                        logger.LogWarning("{Pds} listed {Count} records of another repo or collection when asked for {Did}/{Collection}: ignored",
                            pds, page.ForeignEntries, did, collection);
                    }

                    if (page.Entries == 0 || page.Cursor is null)
                    {
                        cursor = null;
                    }
                    else
                    {
                        trail = trail.Next(page.Cursor, out var cycle);
                        cursor = cycle ? throw new ScanLimitReachedException($"its listRecords cursors for {did}/{collection} came round again (a cycle)") : page.Cursor;
                    }
                }
                while (cursor is not null);
            }
            catch (XrpcException ex) when (IsAboutTheRepo(ex))
            {
                return Skip(batcher, pds, did, ex);
            }

            // Every complete, clean listing is swept, whether or not we held anything there before: what a unit sends must
            // not depend on the index's state, so a unit run again after a crash sends exactly the same batches.
            if (clean)
            {
                await batcher.SweepAsync(did.Value, collection, present.ToList(), listedFrom, deletionSource);
            }

            complete &= clean;
        }

        batcher.Totals = batcher.Totals with { ReposDone = batcher.Totals.ReposDone + 1 };
        return complete ? RepoRead.Complete : RepoRead.Partial;
    }

    /// <summary>
    /// Verified mode: the whole repo in one <c>getRepo</c>, read by <see cref="RepoCar"/> (block CIDs, the commit signed by
    /// the DID's key, the MST) — records of the Chive collections batched, and each of those collections swept, since a
    /// verified repo is complete and clean by construction. A CAR that does not verify indexes nothing and sweeps nothing;
    /// it is counted (<c>reposUnverified</c>) and logged with the reason, and the caller charges the PDS a failure.
    /// </summary>
    private async Task<RepoReadResult> ReadVerifiedAsync(
        ScanBatcher batcher, Uri pds, Did did, IReadOnlyList<string> collections, string deletionSource,
        (long Started, long Described, long Resolved) at, CancellationToken cancellationToken)
    {
        var listedFrom = time.GetUtcNow();
        VerifiedRepo repo;
        try
        {
            batcher.Spend();
            await using var car = await xrpc.GetRepoAsync(pds, did, cancellationToken);
            repo = await RepoCar.ReadAsync(car, did, resolver, ChiveCollections.Namespace + ".", cancellationToken);
        }
        catch (XrpcException ex) when (IsAboutTheRepo(ex))
        {
            return Skip(batcher, pds, did, ex);
        }
        catch (RepoVerificationException ex)
        {
            logger.LogWarning("{Did} on {Pds} did not verify: {Reason}; nothing of it is indexed or swept", did, pds, ex.Message);
            batcher.Totals = batcher.Totals with { ReposUnverified = batcher.Totals.ReposUnverified + 1 };
            if (!ex.ChargesPds)
            {
                return RepoRead.Skipped; // the DID document's fault, not the PDS's: counted, not charged
            }

            batcher.Pds = batcher.Pds with { Unverified = batcher.Pds.Unverified ?? $"{did.Value}: {ex.Message}" };
            return RepoRead.Unverified;
        }

        var fetched = Stopwatch.GetTimestamp();
        var byCollection = repo.Records.Where(r => ChiveCollections.IsChive(r.Collection)).ToLookup(r => r.Collection, StringComparer.Ordinal);
        foreach (var collection in collections.Union(byCollection.Select(g => g.Key)).Distinct().Order(StringComparer.Ordinal))
        {
            var present = new List<string>();
            foreach (var record in byCollection[collection])
            {
                present.Add(record.Rkey);
                var uri = $"at://{did.Value}/{record.Collection}/{record.Rkey}";
                // A key the owner signed but no AT-URI can name, or a block the data model cannot hold: one rejected record.
                if (record.Value is null)
                {
                    await batcher.AddRejectedAsync(uri, record.Cid, record.Problem ?? "not a record");
                }
                else if (!AtUri.TryParse(uri, out var parsed, out var invalid))
                {
                    await batcher.AddRejectedAsync(uri, record.Cid, $"invalid AT-URI: {invalid}");
                }
                else
                {
                    await batcher.AddAsync(new RecordEntry(parsed, Cid.Parse(record.Cid), JsonSerializer.SerializeToElement(record.Value)));
                }
            }

            await batcher.SweepAsync(did.Value, collection, present, listedFrom, deletionSource);
        }

        batcher.Totals = batcher.Totals with { ReposDone = batcher.Totals.ReposDone + 1 };
        // Where a repo's time goes (scripts/bench.sh pds-scan --breakdown reads these lines).
        logger.LogDebug("Repo read {Did}: describeRepo {Describe:F1} ms, DID document {Resolve:F1} ms, getRepo and verify {Fetch:F1} ms, batches sent {Apply:F1} ms",
            did, Stopwatch.GetElapsedTime(at.Started, at.Described).TotalMilliseconds, Stopwatch.GetElapsedTime(at.Described, at.Resolved).TotalMilliseconds,
            Stopwatch.GetElapsedTime(at.Resolved, fetched).TotalMilliseconds, Stopwatch.GetElapsedTime(fetched).TotalMilliseconds);
        // A revision that is not a TID is not recorded (as in listing mode): the next freshness scan reads the repo again.
        return LatestCommit.IsRev(repo.Rev) ? new RepoReadResult(RepoRead.Complete, repo.Rev, repo.CommitCid) : RepoRead.Complete;
    }

    /// <summary>
    /// Provenance: the repo's own DID document must name this PDS. A PDS listing someone else's DID — by mistake or to
    /// write into their records — gets nothing of that repo indexed or swept.
    /// </summary>
    public async Task<bool> IsHostedAsync(ScanBatcher batcher, Uri pds, Did did, CancellationToken cancellationToken)
    {
        ResolvedIdentity identity;
        try
        {
            identity = await resolver.ResolveAsync(did, cancellationToken);
        }
        catch (DidResolutionException ex)
        {
            logger.LogWarning("Skipping {Did} on {Pds}: its DID document could not be resolved ({Error})", did, pds, ex.Message);
            batcher.Totals = batcher.Totals with { ReposSkipped = batcher.Totals.ReposSkipped + 1 };
            return false;
        }

        if (ServiceOrigin.TryNormalize(identity.PdsEndpoint, out var home) && home == ServiceOrigin.Normalize(pds))
        {
            return true;
        }

        logger.LogWarning("{Pds} lists {Did}, whose DID document names {Home} as its PDS: nothing of it is taken from {Pds}",
            pds, did, identity.PdsEndpoint, pds);
        batcher.Totals = batcher.Totals with { ReposNotHosted = batcher.Totals.ReposNotHosted + 1 };
        return false;
    }

    /// <summary>
    /// An answer about one repo we cannot use — the repo is gone or not served, or the PDS's answer for it is malformed,
    /// too large or refused — skips that repo, and sweeps nothing of it. Failures of the host itself (timeouts, 5xx,
    /// unreachable, an open circuit, rate limits, the SSRF guard) are the PDS's and end its reading.
    /// </summary>
    public static bool IsAboutTheRepo(XrpcException ex) => !ex.IsHostFailure && ex.Kind is not XrpcErrorKind.Refused;

    private RepoRead Skip(ScanBatcher batcher, Uri pds, Did did, XrpcException ex)
    {
        logger.LogInformation("Skipping {Did} on {Pds}: {Kind} ({Error}); nothing of it is swept", did, pds, ex.Kind, ex.ServerMessage);
        batcher.Totals = batcher.Totals with { ReposSkipped = batcher.Totals.ReposSkipped + 1 };
        return RepoRead.Skipped;
    }
}
