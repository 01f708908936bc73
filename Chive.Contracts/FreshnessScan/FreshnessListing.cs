using Chive.Contracts.Operations;
using Chive.Contracts.PdsScan;

namespace Chive.Contracts.FreshnessScan;

/// <summary>
/// One unit of a freshness scan's first phase: one <c>listRepos</c> page of <c>Pdses[PdsIndex]</c> (from
/// <paramref name="Cursor"/>; <paramref name="Page"/> pages read so far, <paramref name="Trail"/> for cycles), whose
/// revisions of the snapshot's repos are kept for the chunks that follow. After the last PDS the scan goes on with
/// <see cref="FreshnessChunk"/> at the next <paramref name="Sequence"/> (the same chain <c>freshness</c>).
/// </summary>
public sealed record FreshnessListing(
    Guid OperationId,
    DateTimeOffset StartedAt,
    IReadOnlyList<ListedPds> Pdses,
    int PdsIndex,
    string? Cursor,
    int Page,
    CursorTrail Trail,
    int Sequence,
    ScanTotals Totals) : IChainedWork
{
    string IChainedWork.Chain => "freshness";

    int IChainedWork.Position => Sequence;
}
