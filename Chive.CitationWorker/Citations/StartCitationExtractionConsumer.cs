using Chive.Contracts.Citations;
using Chive.Contracts.Operations;
using Chive.Messaging;
using MassTransit;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Chive.CitationWorker.Citations;

/// <summary>
/// Starts a citation extraction: drops expired lookups, counts the eprints to process — for one URI, fails the operation
/// saying so when we do not hold that eprint — and sends the first unit, whose size (<c>Citations:EprintsPerChunk</c>) is
/// fixed here for the whole operation.
/// </summary>
public sealed class StartCitationExtractionConsumer(
    EprintSource eprints, LookupCache cache, IOptions<CitationOptions> options, OperationGate gate, ILogger<StartCitationExtractionConsumer> logger)
    : OperationWorkConsumer<StartCitationExtraction>(gate)
{
    protected override async Task ConsumeAsync(ConsumeContext<StartCitationExtraction> context, OperationUnit work)
    {
        var message = context.Message;
        var pruned = await cache.PruneAsync(work.Token);
        var total = await eprints.CountAsync(message.Uri, work.Token);
        logger.LogInformation("Citation extraction {OperationId}: {Total} eprints{Only}, force {Force}; {Pruned} expired lookups dropped",
            message.OperationId, total, message.Uri is null ? "" : $" ({message.Uri})", message.Force, pruned);
        if (!await AdvanceAsync(context))
        {
            return;
        }

        if (message.Uri is not null && total == 0)
        {
            ChainEnded(message.OperationId);
            await context.Publish(new BackfillWorkFailed(message.OperationId,
                $"NotFound: no live eprint {message.Uri} is indexed (never scanned, or deleted); run a DID sync of its repo first"));
            return;
        }

        // Heard from at once, with the number to process: the first eprints may take a while (a slow GROBID, a 1/s S2).
        var metadata = new Dictionary<string, string>(CitationTotals.Zero.ToMetadata())
        {
            ["eprintsToProcess"] = total.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        await context.Publish(new BackfillProgressed(message.OperationId, 0, 0, metadata));
        await context.Publish(new CitationChunk(message.OperationId, message.Uri, message.Force, options.Value.EprintsPerChunk,
            AfterUri: null, Total: total, Totals: CitationTotals.Zero, Sequence: 0));
    }
}

public sealed class StartCitationExtractionConsumerDefinition : ConsumerDefinition<StartCitationExtractionConsumer>
{
    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<StartCitationExtractionConsumer> consumerConfigurator, IRegistrationContext context) =>
        endpointConfigurator.UseMessageRetry(r =>
        {
            r.Intervals(500, 2000, 5000);
            r.Handle<NpgsqlException>(e => e.IsTransient || e is not PostgresException);
        });
}
