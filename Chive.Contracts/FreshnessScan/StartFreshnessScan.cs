using Chive.Contracts.Operations;

namespace Chive.Contracts.FreshnessScan;

/// <summary>First unit of a freshness scan: take the snapshot of the repos stale in <paramref name="Tier"/>, count them, start the chain.</summary>
public sealed record StartFreshnessScan(Guid OperationId, string Tier) : IChainedWork
{
    string IChainedWork.Chain => IChainedWork.StartChain;

    int IChainedWork.Position => 0;
}
