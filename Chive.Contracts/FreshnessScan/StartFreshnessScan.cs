using Chive.Contracts.Operations;

namespace Chive.Contracts.FreshnessScan;

/// <summary>First unit of a freshness scan: fix its window from <paramref name="Tier"/>, count the stale repos, start the chain.</summary>
public sealed record StartFreshnessScan(Guid OperationId, string Tier) : IChainedWork
{
    string IChainedWork.Chain => IChainedWork.StartChain;

    int IChainedWork.Position => 0;
}
