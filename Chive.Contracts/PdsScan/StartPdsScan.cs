using Chive.Contracts.Operations;

namespace Chive.Contracts.PdsScan;

/// <summary>
/// First unit of a PDS scan: claim the PDSes to scan (<paramref name="PdsUrl"/> only, registered if unknown, or up to
/// the configured number of due PDSes) and start one lane per unit of concurrency.
/// </summary>
public sealed record StartPdsScan(Guid OperationId, string? PdsUrl) : IChainedWork
{
    string IChainedWork.Chain => IChainedWork.StartChain;

    int IChainedWork.Position => 0;
}
