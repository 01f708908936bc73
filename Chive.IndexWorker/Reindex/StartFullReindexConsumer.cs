using Chive.Contracts.Reindex;
using Chive.IndexWorker.Search;
using Chive.Messaging;
using MassTransit;
using Npgsql;

namespace Chive.IndexWorker.Reindex;

/// <summary>
/// Starts a full reindex: makes sure the alias exists (a first-time reindex gets an empty <c>eprints-v1</c> behind it,
/// so the pipeline never writes to a bare index), creates the next versioned index — periodic refresh off, a build
/// alias to write through, and the operation's id and start time in its mapping's <c>_meta</c> — counts the live
/// eprints and sends the first chunk. A start run again (redelivered, or sent again by the saga) finds the index its
/// own operation made and keeps it: it deletes only what another, unfinished reindex left behind.
/// </summary>
public sealed class StartFullReindexConsumer(
    NpgsqlDataSource dataSource, SearchWriter search, SearchIndexes indexes, OperationGate gate, TimeProvider time, ILogger<StartFullReindexConsumer> logger)
    : OperationWorkConsumer<StartFullReindex>(gate)
{
    protected override async Task ConsumeAsync(ConsumeContext<StartFullReindex> context, OperationUnit work)
    {
        var message = context.Message;
        var cancellationToken = work.Token;
        await search.EnsureAliasAsync(cancellationToken);
        var previous = await indexes.AliasTargetAsync(cancellationToken);
        if (previous is not null && (await indexes.BuildOwnerAsync(previous, cancellationToken))?.OperationId == message.OperationId)
        {
            logger.LogInformation("Reindex {OperationId}: its index {Index} is already live; nothing to start", message.OperationId, previous);
            return;
        }

        var next = SearchIndexes.NextVersion(previous);
        var startedAt = time.GetUtcNow();
        switch (await indexes.BuildOwnerAsync(next, cancellationToken))
        {
            case { } mine when mine.OperationId == message.OperationId:
                logger.LogInformation("Reindex {OperationId}: {Index} was created by this operation's first start; keeping it", message.OperationId, next);
                startedAt = mine.StartedAt;
                break;
            case { } leftover:
                logger.LogWarning("Reindex {OperationId}: {Index} is left over from reindex {Other}, which did not finish; deleting it",
                    message.OperationId, next, leftover.OperationId);
                await indexes.DeleteAsync(next, cancellationToken);
                await indexes.CreateBuildIndexAsync(next, message.OperationId, startedAt, cancellationToken);
                break;
            default:
                await indexes.CreateBuildIndexAsync(next, message.OperationId, startedAt, cancellationToken);
                break;
        }

        // The reindex walks every live eprint in key order, a page at a time. Fresh statistics first: right after a bulk
        // load that autovacuum has not analysed yet, the planner took each page as a scan and sort of the rest of the
        // table (360 ms a page instead of 5 on 100,000 eprints; scripts/bench.sh reindex). ANALYZE samples a bounded
        // number of rows, whatever the table's size, and blocks neither reads nor writes; it does wait behind a running
        // VACUUM, so not for long: without it the reindex is slower, not wrong.
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var batch = new NpgsqlBatch(connection)
            {
                BatchCommands = { new("SET lock_timeout = '5s'"), new("ANALYZE eprints_index"), new("RESET lock_timeout") },
            };
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.LockNotAvailable or PostgresErrorCodes.QueryCanceled)
        {
            logger.LogWarning("Reindex {OperationId}: eprints_index could not be analysed now ({Error}); the pages may be read slowly",
                message.OperationId, ex.MessageText);
        }

        await using var count = dataSource.CreateCommand("SELECT count(*) FROM eprints_index WHERE deleted_at IS NULL");
        var total = (long)(await count.ExecuteScalarAsync(cancellationToken))!;
        logger.LogInformation("Reindex {OperationId}: {Total} eprints into {Index} (alias on {Previous}), {BatchSize} at a time",
            message.OperationId, total, next, previous, message.BatchSize);
        if (await AdvanceAsync(context))
        {
            await context.Publish(new ReindexChunk(message.OperationId, NewIndex: next, PreviousIndex: previous, AfterUri: null, message.BatchSize,
                Total: total, Indexed: 0, ItemErrors: 0, StartedAt: startedAt, Sequence: 0));
        }
    }
}

/// <summary>A start that fails (Elasticsearch or the database gone) is retried a few times, then fails the operation.</summary>
public sealed class StartFullReindexConsumerDefinition : ConsumerDefinition<StartFullReindexConsumer>
{
    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<StartFullReindexConsumer> consumerConfigurator, IRegistrationContext context) =>
        endpointConfigurator.UseMessageRetry(r => r.Intervals(500, 2000, 5000));
}
