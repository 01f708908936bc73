namespace Chive.Contracts.Indexing;

/// <summary>
/// After a complete listing of <paramref name="Collection"/> in <paramref name="Did"/>'s repo: every record we hold
/// there whose record key is not in <paramref name="PresentRkeys"/> (and that was not written after
/// <paramref name="ListedFrom"/>) is gone from the PDS and is marked deleted, with <paramref name="DeletionSource"/>
/// (<see cref="SweepCollection.ScanMissing"/> for a scan, <see cref="SweepCollection.Pds404"/> for a freshness scan).
/// Sent only for complete, clean listings, riding in the next <see cref="IndexRecords"/> batch of the same unit: it never
/// touches the keys it lists, so it need not follow them, and a batch of its own would cost a transaction and a report.
/// </summary>
public sealed record CollectionSweep(
    string Did,
    string Collection,
    IReadOnlyList<string> PresentRkeys,
    DateTimeOffset ListedFrom,
    string DeletionSource = SweepCollection.ScanMissing);
