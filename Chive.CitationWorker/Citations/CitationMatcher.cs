using Npgsql;

namespace Chive.CitationWorker.Citations;

/// <summary>
/// Which cited works are our own eprints: a DOI equal to an eprint's published DOI (confidence 1.0, method <c>doi</c>),
/// else a title whose key (<c>chive_title_key</c>: lowercase, runs of anything but a-z and 0-9 made one space) has at
/// least 10 characters and equals a live eprint's (0.8, <c>title</c>). Two queries per eprint, both on indexes, whatever
/// the number of citations; never the citing eprint itself. Several eprints with one title: the first by URI.
/// </summary>
public static class CitationMatcher
{
    public const double DoiConfidence = 1.0;
    public const double TitleConfidence = 0.8;
    public const int MinTitleKeyLength = 10;

    public static async Task<IReadOnlyList<Citation>> MatchAsync(NpgsqlConnection connection, string citingUri, IReadOnlyList<Citation> citations, CancellationToken cancellationToken)
    {
        var dois = citations.Where(c => c.Doi is not null).Select(c => c.Doi!).Distinct(StringComparer.Ordinal).ToArray();
        var byDoi = new Dictionary<string, string>(StringComparer.Ordinal);
        if (dois.Length > 0)
        {
            await using var command = new NpgsqlCommand("""
                SELECT DISTINCT ON (lower(published_version ->> 'doi')) lower(published_version ->> 'doi'), uri FROM eprints_index
                WHERE published_version ? 'doi' AND lower(published_version ->> 'doi') = ANY(@dois) AND deleted_at IS NULL AND uri <> @self
                ORDER BY lower(published_version ->> 'doi'), uri
                """, connection);
            command.Parameters.AddWithValue("dois", dois);
            command.Parameters.AddWithValue("self", citingUri);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                byDoi[reader.GetString(0)] = reader.GetString(1);
            }
        }

        var titles = citations.Where(c => c.Title is not null && (c.Doi is null || !byDoi.ContainsKey(c.Doi))).Select(c => c.Title!).Distinct(StringComparer.Ordinal).ToArray();
        var byTitle = new Dictionary<string, string>(StringComparer.Ordinal);
        if (titles.Length > 0)
        {
            await using var command = new NpgsqlCommand($"""
                SELECT DISTINCT ON (t.title) t.title, e.uri FROM unnest(@titles) AS t(title)
                JOIN eprints_index e ON chive_title_key(e.title) = chive_title_key(t.title) AND e.deleted_at IS NULL AND e.uri <> @self
                WHERE length(chive_title_key(t.title)) >= {MinTitleKeyLength}
                ORDER BY t.title, e.uri
                """, connection);
            command.Parameters.AddWithValue("titles", titles);
            command.Parameters.AddWithValue("self", citingUri);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                byTitle[reader.GetString(0)] = reader.GetString(1);
            }
        }

        return citations.Select(c =>
            c.Doi is { } doi && byDoi.TryGetValue(doi, out var doiMatch) ? c with { MatchUri = doiMatch, MatchConfidence = DoiConfidence, MatchMethod = "doi" }
            : c.Title is { } title && byTitle.TryGetValue(title, out var titleMatch) ? c with { MatchUri = titleMatch, MatchConfidence = TitleConfidence, MatchMethod = "title" }
            : c).ToList();
    }
}
