namespace Chive.CitationWorker.Citations;

/// <summary>How this worker names itself to GROBID, Semantic Scholar and Crossref.</summary>
internal static class CitationUserAgent
{
    /// <summary><c>chive-backfill/1.0</c>, with <c>(mailto:…)</c> when a contact is configured (Crossref's polite pool).</summary>
    public static string Value(string? mailto) =>
        string.IsNullOrWhiteSpace(mailto) ? "chive-backfill/1.0" : $"chive-backfill/1.0 (mailto:{mailto.Trim()})";
}
