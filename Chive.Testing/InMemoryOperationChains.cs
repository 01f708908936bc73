using System.Collections.Concurrent;
using Chive.Contracts.Operations;
using Chive.Messaging;

namespace Chive.Testing;

/// <summary>
/// The chain ledger's rules without PostgreSQL, for message specs that need no database. The real ledger
/// (<see cref="OperationChains"/>) applies the same rules in SQL and is tested against PostgreSQL.
/// </summary>
public sealed class InMemoryOperationChains : IOperationChains
{
    private readonly ConcurrentDictionary<(Guid, string), (int Position, Guid? AdvancedBy)> _chains = new();
    private readonly Lock _gate = new();

    public Task<bool> MayRunAsync(IChainedWork work, Guid messageId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var (position, advancedBy) = _chains.GetOrAdd((work.OperationId, work.Chain), (work.Position, null));
            return Task.FromResult(position <= work.Position || (position == work.Position + 1 && advancedBy == messageId));
        }
    }

    public Task<bool> AdvanceAsync(IChainedWork work, Guid messageId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var key = (work.OperationId, work.Chain);
            if (_chains.TryGetValue(key, out var current) && !(current.Position <= work.Position || (current.Position == work.Position + 1 && current.AdvancedBy == messageId)))
            {
                return Task.FromResult(false);
            }

            _chains[key] = (work.Position + 1, messageId);
            return Task.FromResult(true);
        }
    }
}
