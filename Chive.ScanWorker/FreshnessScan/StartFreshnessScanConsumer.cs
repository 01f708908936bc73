using Chive.Contracts.FreshnessScan;
using Chive.Contracts.Operations;
using Chive.Contracts.PdsScan;
using Chive.Messaging;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Chive.ScanWorker.FreshnessScan;

/// <summary>
/// Starts a freshness scan: takes the snapshot of the repos stale in its tier's window as of now — so progress is a true
/// percentage from the first report — chooses the PDSes cheaper to list than to ask repo by repo, and starts the chain
/// (one lane): their listings first, then the chunks of the snapshot. Nothing stale: the scan ends at once.
/// </summary>
public sealed class StartFreshnessScanConsumer(StaleRepos stale, OperationGate gate, IOptions<FreshnessOptions> options, TimeProvider time, ILogger<StartFreshnessScanConsumer> logger)
    : OperationWorkConsumer<StartFreshnessScan>(gate)
{
    protected override async Task ConsumeAsync(ConsumeContext<StartFreshnessScan> context, OperationUnit work)
    {
        var message = context.Message;
        var window = options.Value.WindowFor(message.Tier, time.GetUtcNow());
        var snapshot = await stale.SnapshotAsync(message.OperationId, window, work.Token);
        var listed = snapshot.Repos > 0 ? await stale.WorthListingAsync(message.OperationId, work.Token) : [];
        logger.LogInformation("Freshness scan {OperationId} ({Tier}): {Count} repos with stale records; {Listed} PDSes listed with listRepos",
            message.OperationId, message.Tier, snapshot.Repos, listed.Count);
        if (!await AdvanceAsync(context))
        {
            return;
        }

        var totals = ScanTotals.Zero with { ReposKnown = snapshot.Repos };
        await context.Publish(new ScanLaneProgressed(message.OperationId, Lane: 0, Lanes: 1, totals, Finished: snapshot.Repos == 0));
        if (listed.Count > 0)
        {
            await context.Publish(new FreshnessListing(message.OperationId, snapshot.TakenAt, listed, PdsIndex: 0, Cursor: null, Page: 0, CursorTrail.Start, Sequence: 0, totals));
        }
        else if (snapshot.Repos > 0)
        {
            await context.Publish(new FreshnessChunk(message.OperationId, snapshot.TakenAt, AfterDid: null, Sequence: 0, totals));
        }
        else
        {
            await stale.ForgetAsync(message.OperationId, context.CancellationToken);
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
