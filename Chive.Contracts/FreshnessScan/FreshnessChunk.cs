using Chive.Contracts.Operations;
using Chive.Contracts.PdsScan;

namespace Chive.Contracts.FreshnessScan;

/// <summary>
/// One unit of a freshness scan: the next stale repos after <paramref name="AfterDid"/> (keyset, DID order) within
/// <paramref name="Window"/>. Per repo: its current revision (one request); unchanged → its records confirmed; changed →
/// the repo read again and every difference applied. <paramref name="Totals"/> are the scan's running totals (one lane);
/// <paramref name="Sequence"/> is the chunk's position in the chain <c>freshness</c>.
/// </summary>
public sealed record FreshnessChunk(
    Guid OperationId, string Tier, FreshnessWindow Window, string? AfterDid, int Sequence, ScanTotals Totals) : IChainedWork
{
    string IChainedWork.Chain => "freshness";

    int IChainedWork.Position => Sequence;
}
