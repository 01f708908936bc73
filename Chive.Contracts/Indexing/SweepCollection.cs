using Chive.Contracts.Operations;

namespace Chive.Contracts.Indexing;

/// <summary>
/// After a complete listing of <paramref name="Collection"/> in <paramref name="Did"/>'s repo: every record we hold
/// there whose record key is not in <paramref name="PresentRkeys"/> (and that was not written after
/// <paramref name="ListedFrom"/>) is gone from the PDS and is marked deleted. Sent only for complete listings.
/// </summary>
public sealed record SweepCollection(
    Guid OperationId, Guid BatchId, string Did, string Collection, IReadOnlyList<string> PresentRkeys, DateTimeOffset ListedFrom) : IOperationWork;
