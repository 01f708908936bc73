using Chive.Contracts.Operations;

namespace Chive.Contracts.PdsScan;

/// <summary>
/// One bounded unit of a scan lane: one <c>listRepos</c> page of the lane's current PDS (<see cref="Pdses"/>[0]) at
/// <see cref="Cursor"/> (null = first page), or, when <see cref="Did"/> is set, that single repo. A lane scans its PDSes
/// one after the other, so an operation never has more PDSes in flight than it has lanes. The counters are the lane's
/// running totals, carried from chunk to chunk; <see cref="Pds"/> what this lane has read of its current PDS (reset for
/// each PDS, and checked against the per-PDS caps). <see cref="Sequence"/> numbers the chunks of the lane: the lane is
/// the chain <c>lane-N</c>, and the sequence a chunk's position in it. <see cref="Force"/>: the trigger asked for every
/// repo to be read whole (no repo skipped as unchanged).
/// </summary>
public sealed record ScanPdsChunk(
    Guid OperationId,
    int Lane,
    int Lanes,
    IReadOnlyList<string> Pdses,
    string? Did,
    string? Cursor,
    int Sequence,
    ScanTotals Totals,
    PdsProgress Pds,
    bool Force = false) : IChainedWork
{
    string IChainedWork.Chain => $"lane-{Lane}";

    int IChainedWork.Position => Sequence;
}
