using Chive.Contracts.Operations;

namespace Chive.Contracts.GovernanceSync;

/// <summary>
/// One bounded unit of a governance sync: read the page of <paramref name="Collection"/> at <paramref name="Cursor"/>
/// (null = first page) from the governance repo, write it, then send the next chunk or report completion.
/// <paramref name="Written"/> and <paramref name="Invalid"/> carry the running totals, <paramref name="Trail"/> the
/// cursors of the current listing (cycle detection), <paramref name="Sequence"/> the chunk's position in the chain.
/// <paramref name="Partial"/>: some entry of the listing could not be attributed (so nothing may be removed at the end);
/// <paramref name="Force"/>: the operator allowed removing more than the usual share of the graph.
/// </summary>
public sealed record SyncGovernanceChunk(
    Guid OperationId,
    string Collection,
    string? Cursor,
    long Written,
    long Invalid,
    int Sequence = 0,
    CursorTrail? Trail = null,
    bool Partial = false,
    bool Force = false) : IChainedWork
{
    string IChainedWork.Chain => "governance";

    int IChainedWork.Position => Sequence;
}
