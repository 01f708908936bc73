using Chive.Contracts.Operations;

namespace Chive.Contracts.Citations;

/// <summary>
/// First unit of a citation extraction: count the eprints to process — every live eprint, or the one at
/// <see cref="Uri"/> (the operation fails saying so when we do not hold it) — and send the first chunk.
/// <see cref="Force"/> extracts again even where the document is the one of the last successful extraction.
/// </summary>
public sealed record StartCitationExtraction(Guid OperationId, string? Uri, bool Force) : IChainedWork
{
    string IChainedWork.Chain => IChainedWork.StartChain;

    int IChainedWork.Position => 0;
}
