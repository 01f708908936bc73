using Chive.Contracts.Operations;

namespace Chive.Contracts.Indexing;

/// <summary>
/// A repo is gone for good (its host took it down, or the account was deleted): every live record of
/// <paramref name="Did"/> is marked deleted with <paramref name="DeletionSource"/> and its eprints leave search.
/// </summary>
public sealed record RemoveRepo(Guid OperationId, Guid BatchId, string Did, string DeletionSource) : IOperationWork;
