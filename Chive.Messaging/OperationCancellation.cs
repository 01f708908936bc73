using System.Collections.Concurrent;
using Chive.Contracts.Operations;

namespace Chive.Messaging;

/// <summary>
/// Per worker instance: a <see cref="CancellationToken"/> per operation, tripped when the operation's
/// <see cref="BackfillCancelled"/> event arrives on this instance's own queue. The unit of work in flight checks it
/// between its request and its write; a cancelled operation's later chunks are dropped.
/// </summary>
public sealed class OperationCancellation
{
    private readonly ConcurrentDictionary<Guid, CancellationTokenSource> _sources = new();

    public CancellationToken TokenFor(Guid operationId) => _sources.GetOrAdd(operationId, _ => new CancellationTokenSource()).Token;

    public void Cancel(Guid operationId) => _sources.GetOrAdd(operationId, _ => new CancellationTokenSource()).Cancel();

    /// <summary>
    /// Forgets a finished operation's token (its chain has ended). The source is not disposed: a unit still in flight on
    /// another thread may hold its token, and a source without timers holds nothing that needs releasing.
    /// </summary>
    public void Forget(Guid operationId) => _sources.TryRemove(operationId, out _);
}
