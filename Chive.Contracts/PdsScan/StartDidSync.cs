using Chive.Contracts.Operations;

namespace Chive.Contracts.PdsScan;

/// <summary>First unit of a DID sync: resolve <paramref name="Did"/> to its PDS, register the PDS, scan that one repo.</summary>
public sealed record StartDidSync(Guid OperationId, string Did) : IChainedWork
{
    string IChainedWork.Chain => IChainedWork.StartChain;

    int IChainedWork.Position => 0;
}
