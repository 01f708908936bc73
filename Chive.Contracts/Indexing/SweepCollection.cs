using Chive.Contracts.Operations;

namespace Chive.Contracts.Indexing;

/// <summary>
/// A <see cref="CollectionSweep"/> as a batch of its own. Scans now send sweeps inside <see cref="IndexRecords"/>; the
/// IndexWorker still applies this message, so sweeps queued by a ScanWorker of the previous version are not lost in an
/// upgrade.
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

    /// <summary>A method, not a property: the message's JSON carries its fields once.</summary>
    public CollectionSweep ToSweep() => new(Did, Collection, PresentRkeys, ListedFrom, DeletionSource);
}
