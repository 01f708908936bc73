using Chive.AtProto.Net;
using Chive.Contracts.Operations;
using Chive.Contracts.PdsScan;
using Chive.Messaging;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Chive.ScanWorker.PdsScan;

/// <summary>
/// Starts a PDS scan: claims the PDS asked for (registered if unknown) or — after <see cref="PdsDiscovery"/> has added
/// the PDSes the PLC directory and the relay name that the registry does not know yet — up to
/// <see cref="PdsScanOptions.MaxPdsesPerScan"/> due PDSes, and deals them round-robin into <see cref="PdsScanOptions.Concurrency"/> lanes, each a chain of chunks
/// that scans its PDSes one after the other. A start delivered twice starts once: a second delivery finds the claims
/// its first made (the same PDSes, dealt the same way), and the lanes it would send are dropped by their chains.
/// </summary>
public sealed class StartPdsScanConsumer(
    PdsRegistry registry, PdsDiscovery discovery, OperationGate gate, IOptions<PdsScanOptions> options, ILogger<StartPdsScanConsumer> logger)
    : OperationWorkConsumer<StartPdsScan>(gate)
{
    protected override async Task ConsumeAsync(ConsumeContext<StartPdsScan> context, OperationUnit work)
    {
        var message = context.Message;
        var owner = message.OperationId.ToString("D");
        IReadOnlyList<string> pdses;
        if (message.PdsUrl is { } url)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || !ServiceOrigin.TryNormalize(uri, out var origin))
            {
                await context.Publish(new BackfillWorkFailed(message.OperationId, $"'{url}' is not a PDS origin (http(s)://host[:port])"));
                return;
            }

            await registry.RegisterAsync(uri, DiscoverySource.Admin, context.CancellationToken);
            if (!await registry.ClaimAsync(uri, owner, context.CancellationToken))
            {
                var holder = (await registry.GetAsync(uri, context.CancellationToken))?.LeaseOwner;
                await context.Publish(new BackfillWorkFailed(message.OperationId, $"{origin} is being scanned by operation {holder}; try again when it ends"));
                return;
            }

            pdses = [origin];
        }
        else
        {
            if (discovery.IsEnabled && !work.IsCancelled)
            {
                // Heard from at once and after every page: the watchdog neither sends the start again nor calls a long
                // first read of the directory stalled.
                Task Report(DiscoveryOutcome sofar) => context.Publish(new BackfillProgressed(message.OperationId, 0, 0, sofar.Details()));
                DiscoveryOutcome found;
                try
                {
                    await Report(new DiscoveryOutcome(0, 0, [], 0, []));
                    found = await discovery.DiscoverAsync(Report, work.Token);
                }
                catch (OperationCanceledException) when (work.IsCancelled)
                {
                    return; // cancelled while reading the directory: nothing claimed, nothing to give back
                }

                await context.Publish(new BackfillProgressed(message.OperationId, 0, 0, found.Details()));
            }

            pdses = await registry.ClaimDueAsync(owner, options.Value.MaxPdsesPerScan, context.CancellationToken);
        }

        if (!await AdvanceAsync(context))
        {
            return;
        }

        if (pdses.Count == 0)
        {
            logger.LogInformation("PDS scan {OperationId}: no PDS is due", message.OperationId);
            await context.Publish(new BackfillWorkCompleted(message.OperationId, 0, new Dictionary<string, string> { ["pdsesScanned"] = "0" }));
            return;
        }

        var lanes = Math.Min(options.Value.Concurrency, pdses.Count);
        logger.LogInformation("PDS scan {OperationId}: {Count} PDSes in {Lanes} lanes: {Pdses}", message.OperationId, pdses.Count, lanes, pdses);
        for (var lane = 0; lane < lanes; lane++)
        {
            var mine = pdses.Where((_, i) => i % lanes == lane).ToList();
            await context.Publish(new ScanPdsChunk(
                message.OperationId, lane, lanes, mine, Did: null, Cursor: null, Sequence: 0, ScanTotals.Zero, PdsProgress.Zero, message.Force));
        }
    }
}

/// <summary>Registry or broker hiccups are retried a few times; then the fault fails the operation.</summary>
public sealed class StartPdsScanConsumerDefinition : ConsumerDefinition<StartPdsScanConsumer>
{
    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<StartPdsScanConsumer> consumerConfigurator, IRegistrationContext context) =>
        endpointConfigurator.UseMessageRetry(r => r.Intervals(500, 2000, 5000));
}
