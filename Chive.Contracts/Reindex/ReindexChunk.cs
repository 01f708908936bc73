using Chive.Contracts.Operations;

namespace Chive.Contracts.Reindex;

/// <summary>
/// One unit of a full reindex: the next <see cref="BatchSize"/> live eprints after <see cref="AfterUri"/> (keyset, AT-URI
/// order) into <see cref="NewIndex"/>; after the last page, replay what changed since <see cref="StartedAt"/>, swap the
/// alias from <see cref="PreviousIndex"/> (null: no alias yet) to the new index in one call, delete the previous index.
/// <see cref="Sequence"/> is the chunk's position in the reindex's chain.
/// </summary>
public sealed record ReindexChunk(
    Guid OperationId,
    string NewIndex,
    string? PreviousIndex,
    string? AfterUri,
    int BatchSize,
    long Total,
    long Indexed,
    long ItemErrors,
    DateTimeOffset StartedAt,
    int Sequence = 0) : IChainedWork
{
    string IChainedWork.Chain => "reindex";

    int IChainedWork.Position => Sequence;
}
