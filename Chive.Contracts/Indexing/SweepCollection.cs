using Chive.Contracts.Operations;

namespace Chive.Contracts.Indexing;

/// <summary>
/// After a complete listing of <paramref name="Collection"/> in <paramref name="Did"/>'s repo: every record we hold
/// there whose record key is not in <paramref name="PresentRkeys"/> (and that was not written after
/// <paramref name="ListedFrom"/>) is gone from the PDS and is marked deleted, with <paramref name="DeletionSource"/>
/// (<c>scan_missing</c> for a scan, <c>pds_404</c> for a freshness scan). Sent only for complete, clean listings.
/// </summary>
public sealed record SweepCollection(
    Guid OperationId,
    Guid BatchId,
    string Did,
    string Collection,
    IReadOnlyList<string> PresentRkeys,
    DateTimeOffset ListedFrom,
    string DeletionSource = SweepCollection.ScanMissing) : IOperationWork
{
    public const string ScanMissing = "scan_missing";
    public const string Pds404 = "pds_404";
}
