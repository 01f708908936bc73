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
}
