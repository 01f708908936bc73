using Chive.Contracts.Operations;

namespace Chive.Contracts.PdsScan;

/// <summary>
/// First unit of a PDS scan: claim the PDSes to scan (<paramref name="PdsUrl"/> only, registered if unknown, or up to
/// the configured number of due PDSes) and start one lane per unit of concurrency. <paramref name="Force"/>: read every
/// repo whole, even one whose PDS lists the verified commit we recorded for it (see <c>PdsScan:SkipUnchangedRepos</c>).
/// </summary>
public sealed record StartPdsScan(Guid OperationId, string? PdsUrl, bool Force = false) : IChainedWork
{
    string IChainedWork.Chain => IChainedWork.StartChain;

    int IChainedWork.Position => 0;
}
