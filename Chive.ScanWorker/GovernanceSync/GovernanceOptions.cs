using System.ComponentModel.DataAnnotations;

namespace Chive.ScanWorker.GovernanceSync;

/// <summary>
/// Where the governance graph lives. Settings <c>Governance:PdsUrl</c> and <c>Governance:Did</c>; the seed's
/// environment variables <c>GRAPH_PDS_URL</c> and <c>GRAPH_PDS_DID</c> win when set.
/// </summary>
public sealed class GovernanceOptions
{
    public const string SectionName = "Governance";

    [Required]
    public Uri PdsUrl { get; set; } = new("https://governance.chive.pub");

    [Required]
    public string Did { get; set; } = "did:plc:5wzpn4a4nbqtz3q45hyud6hd";

    /// <summary>Records per listRecords page (1–100, default 100): one page is one unit of work.</summary>
    [Range(1, 100)]
    public int PageSize { get; set; } = 100;

    /// <summary>Most pages one sync reads (default 10,000, a million records); a listing longer than that fails the sync.</summary>
    [Range(1, int.MaxValue)]
    public int MaxPages { get; set; } = 10_000;

    /// <summary>
    /// The largest share of the graph one sync may remove (default 0.5). A listing that would remove more — an empty
    /// answer, a truncated repo — fails the sync and removes nothing, unless the trigger says <c>{"force": true}</c>.
    /// </summary>
    [Range(0.0, 1.0)]
    public double MaxRemovedShare { get; set; } = 0.5;
}
