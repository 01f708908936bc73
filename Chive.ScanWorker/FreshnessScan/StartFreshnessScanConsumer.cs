using Chive.Contracts.FreshnessScan;
using Chive.Contracts.PdsScan;
using Chive.Messaging;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Chive.ScanWorker.FreshnessScan;

/// <summary>
/// Starts a freshness scan: fixes the window of its tier as of now, counts the stale repos — so progress is a true
/// percentage from the first report — and starts the chain of chunks (one lane). Nothing stale: the scan ends at once.
/// </summary>
public sealed class StartFreshnessScanConsumer(StaleRepos stale, OperationGate gate, IOptions<FreshnessOptions> options, TimeProvider time, ILogger<StartFreshnessScanConsumer> logger)
    : OperationWorkConsumer<StartFreshnessScan>(gate)
{
    protected override async Task ConsumeAsync(ConsumeContext<StartFreshnessScan> context, OperationUnit work)
    {
        var message = context.Message;
        var window = options.Value.WindowFor(message.Tier, time.GetUtcNow());
        var count = await stale.CountAsync(window, work.Token);
        logger.LogInformation("Freshness scan {OperationId} ({Tier}): {Count} repos with stale records", message.OperationId, message.Tier, count);
        if (!await AdvanceAsync(context))
        {
            return;
        }

        var totals = ScanTotals.Zero with { ReposKnown = count };
        await context.Publish(new ScanLaneProgressed(message.OperationId, Lane: 0, Lanes: 1, totals, Finished: count == 0));
        if (count > 0)
        {
            await context.Publish(new FreshnessChunk(message.OperationId, message.Tier, window, AfterDid: null, Sequence: 0, totals));
        }
    }
}

/// <summary>A database or broker hiccup is retried a few times; then the fault fails the operation.</summary>
public sealed class StartFreshnessScanConsumerDefinition : ConsumerDefinition<StartFreshnessScanConsumer>
{
    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<StartFreshnessScanConsumer> consumerConfigurator, IRegistrationContext context) =>
        endpointConfigurator.UseMessageRetry(r => r.Intervals(500, 2000, 5000));
}
