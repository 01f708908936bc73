using Chive.Contracts.Operations;

namespace Chive.Contracts.Reindex;

/// <summary>First unit of a full reindex: create the next versioned index (<c>eprints-v&lt;N&gt;</c>) and start filling it.</summary>
public sealed record StartFullReindex(Guid OperationId, int BatchSize) : IChainedWork
{
    string IChainedWork.Chain => IChainedWork.StartChain;

    int IChainedWork.Position => 0;
}
