using Chive.Contracts.Reindex;
using Chive.IndexWorker.Search;
using MassTransit;
using Npgsql;

namespace Chive.IndexWorker.Reindex;

/// <summary>
/// Starts a full reindex: makes sure the alias exists (a first-time reindex gets an empty <c>eprints-v1</c> behind it,
/// so the pipeline never writes to a bare index), creates the next versioned index with periodic refresh off, counts
/// the live eprints and sends the first chunk.
/// </summary>
public sealed class StartFullReindexConsumer(
    NpgsqlDataSource dataSource, SearchWriter search, SearchIndexes indexes, TimeProvider time, ILogger<StartFullReindexConsumer> logger)
    : IConsumer<StartFullReindex>
{
    public async Task Consume(ConsumeContext<StartFullReindex> context)
    {
        var message = context.Message;
        var cancellationToken = context.CancellationToken;
        await search.EnsureAliasAsync(cancellationToken);
        var previous = await indexes.AliasTargetAsync(cancellationToken);
        var next = SearchIndexes.NextVersion(previous);
        if (await indexes.ExistsAsync(next, cancellationToken))
        {
            logger.LogWarning("Reindex {OperationId}: {Index} is left over from a reindex that did not finish; deleting it", message.OperationId, next);
            await indexes.DeleteAsync(next, cancellationToken);
        }

        await search.CreateIndexAsync(next, withAlias: false, cancellationToken, settings => settings["refresh_interval"] = "-1");
        await using var count = dataSource.CreateCommand("SELECT count(*) FROM eprints_index WHERE deleted_at IS NULL");
        var total = (long)(await count.ExecuteScalarAsync(cancellationToken))!;
        logger.LogInformation("Reindex {OperationId}: {Total} eprints into {Index} (alias on {Previous}), {BatchSize} at a time",
            message.OperationId, total, next, previous, message.BatchSize);
        await context.Publish(new ReindexChunk(message.OperationId, NewIndex: next, PreviousIndex: previous, AfterUri: null, message.BatchSize,
            Total: total, Indexed: 0, ItemErrors: 0, StartedAt: time.GetUtcNow()));
    }
}

/// <summary>A start that fails (Elasticsearch or the database gone) is retried a few times, then fails the operation.</summary>
public sealed class StartFullReindexConsumerDefinition : ConsumerDefinition<StartFullReindexConsumer>
{
    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<StartFullReindexConsumer> consumerConfigurator, IRegistrationContext context) =>
        endpointConfigurator.UseMessageRetry(r => r.Intervals(500, 2000, 5000));
}
