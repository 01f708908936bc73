using Chive.Contracts.Operations;

namespace Chive.Contracts.Citations;

/// <summary>
/// One unit of a citation extraction: up to <see cref="BatchSize"/> (<c>Citations:EprintsPerChunk</c> at the start) live eprints after <see cref="AfterUri"/> (keyset,
/// AT-URI order; only <see cref="Uri"/> when the operation names one), each extracted and stored in its own
/// transaction. <see cref="Totals"/> are those of the chunks before this one; <see cref="Total"/> the eprints counted at
/// the start.
/// </summary>
public sealed record CitationChunk(
    Guid OperationId,
    string? Uri,
    bool Force,
    int BatchSize,
    string? AfterUri,
    long Total,
    CitationTotals Totals,
    int Sequence = 0) : IChainedWork
{
    string IChainedWork.Chain => "citations";

    int IChainedWork.Position => Sequence;
}
