using Chive.AdminApi.OperationTypes;
using Chive.Contracts.Operations;
using MassTransit;

namespace Chive.AdminApi.Operations;

/// <summary>
/// Starts operations, one per (type, scope) at a time: while one runs, a new trigger returns it instead of starting a
/// second. The scope's holder is claimed with a compare-and-set in Redis, so two concurrent triggers start one.
/// </summary>
public interface IOperationTrigger
{
    /// <summary>Starts an operation of <paramref name="type"/> with a checked input, or returns the one running in its scope.</summary>
    Task<(BackfillOperation Operation, bool AlreadyRunning)> StartAsync(
        string type, OperationInput input, string startedBy, CancellationToken cancellationToken);
}

/// <inheritdoc />
public sealed class OperationTrigger(OperationStore store, IRequestClient<BackfillRequested> requests, TimeProvider time) : IOperationTrigger
{
    public async Task<(BackfillOperation Operation, bool AlreadyRunning)> StartAsync(
        string type, OperationInput input, string startedBy, CancellationToken cancellationToken)
    {
        var (scope, metadata) = input;
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var holder = await store.GetScopeHolderAsync(type, scope);
            if (holder is { } holderId && await store.GetAsync(holderId) is { IsFinished: false } running)
            {
                return (running, true);
            }

            var id = NewId.NextGuid();
            if (!await store.TryClaimScopeAsync(type, scope, holder, id))
            {
                continue; // another trigger claimed it first: look again
            }

            await requests.GetResponse<BackfillAccepted>(
                new BackfillRequested(id, type, scope, startedBy, metadata, time.GetUtcNow()), cancellationToken);
            return (await store.GetAsync(id) ?? throw new InvalidOperationException($"operation {id} was accepted but is not stored"), false);
        }

        throw new InvalidOperationException($"could not claim the {type} scope '{scope}' after 5 attempts");
    }
}
