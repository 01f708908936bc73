using Chive.Contracts.Operations;
using Chive.Contracts.PdsScan;

namespace Chive.Contracts.FreshnessScan;

/// <summary>
/// One unit of a freshness scan: the next repos of its snapshot after <paramref name="AfterDid"/> (DID order). Per repo:
/// its current revision (from the scan's listing of its PDS, or one request); unchanged → its records confirmed;
/// changed → the repo read again and every difference applied. <paramref name="StartedAt"/> is when the snapshot was
/// taken (collections whose records were removed since are still read, so a unit run again reads what it read the first
/// time); <paramref name="Totals"/> the scan's running totals (one lane); <paramref name="Sequence"/> the unit's position
/// in the chain <c>freshness</c>.
/// </summary>
public sealed record FreshnessChunk(Guid OperationId, DateTimeOffset StartedAt, string? AfterDid, int Sequence, ScanTotals Totals) : IChainedWork
{
    string IChainedWork.Chain => "freshness";

    int IChainedWork.Position => Sequence;
}
