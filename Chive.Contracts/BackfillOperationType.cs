namespace Chive.Contracts;

/// <summary>The six backfill operation types, spelled as the API spells them (camelCase).</summary>
public static class BackfillOperationType
{
    public const string PdsScan = "pdsScan";
    public const string FreshnessScan = "freshnessScan";
    public const string CitationExtraction = "citationExtraction";
    public const string FullReindex = "fullReindex";
    public const string GovernanceSync = "governanceSync";
    public const string DidSync = "didSync";

    public static IReadOnlyList<string> All { get; } =
        [PdsScan, FreshnessScan, CitationExtraction, FullReindex, GovernanceSync, DidSync];

    public static bool IsKnown(string? type) => type is not null && All.Contains(type, StringComparer.Ordinal);
}
