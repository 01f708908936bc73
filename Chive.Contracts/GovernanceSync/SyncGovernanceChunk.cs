using Chive.Contracts.Operations;

namespace Chive.Contracts.GovernanceSync;

/// <summary>
/// One bounded unit of a governance sync: read the page of <paramref name="Collection"/> at <paramref name="Cursor"/>
/// (null = first page) from the governance repo, write it, then send the next chunk or report completion.
/// <paramref name="Written"/> and <paramref name="Invalid"/> carry the running totals.
/// </summary>
public sealed record SyncGovernanceChunk(Guid OperationId, string Collection, string? Cursor, long Written, long Invalid) : IOperationWork;
