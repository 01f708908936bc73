using Chive.AtProto.Identifiers;
using Chive.AtProto.Identity;
using Chive.AtProto.Net;
using Chive.Contracts.Operations;
using Chive.Contracts.PdsScan;
using Chive.Messaging;
using MassTransit;

namespace Chive.ScanWorker.PdsScan;

/// <summary>
/// Starts a DID sync: resolves the DID (did:plc through the PLC directory, did:web through its host) to its PDS, which
/// must pass the SSRF guard, registers that PDS (source <c>did_mention</c>) and scans that one repo. An unresolvable
/// DID, a document without a PDS or a refused PDS fails the operation, saying which.
/// </summary>
public sealed class StartDidSyncConsumer(DidResolver resolver, PdsRegistry registry, OperationGate gate, ILogger<StartDidSyncConsumer> logger)
    : OperationWorkConsumer<StartDidSync>(gate)
{
    protected override async Task ConsumeAsync(ConsumeContext<StartDidSync> context, OperationUnit work)
    {
        var message = context.Message;
        if (!Did.TryParse(message.Did, out var did))
        {
            await context.Publish(new BackfillWorkFailed(message.OperationId, $"'{message.Did}' is not a did:plc or did:web DID"));
            return;
        }

        ResolvedIdentity identity;
        try
        {
            identity = await resolver.ResolveAsync(did, context.CancellationToken);
        }
        catch (DidResolutionException ex)
        {
            logger.LogWarning("DID sync {OperationId}: {Error}", message.OperationId, ex.Message);
            await context.Publish(new BackfillWorkFailed(message.OperationId, Explain(did, ex)));
            return;
        }

        if (!ServiceOrigin.TryNormalize(identity.PdsEndpoint, out var pds))
        {
            await context.Publish(new BackfillWorkFailed(message.OperationId,
                $"the DID document of {did} names a PDS endpoint that is not a service origin: {identity.PdsEndpoint}"));
            return;
        }

        await registry.RegisterAsync(new Uri(pds), DiscoverySource.DidMention, context.CancellationToken);
        logger.LogInformation("DID sync {OperationId}: {Did} is on {Pds}", message.OperationId, did, pds);
        if (await AdvanceAsync(context))
        {
            await context.Publish(new ScanPdsChunk(
                message.OperationId, Lane: 0, Lanes: 1, [pds], did.Value, Cursor: null, Sequence: 0, ScanTotals.Zero, PdsProgress.Zero));
        }
    }

    private static string Explain(Did did, DidResolutionException ex) => ex.Error switch
    {
        DidResolutionError.NotFound => $"{did} could not be resolved: no DID document exists for it ({ex.Message})",
        DidResolutionError.Deactivated => $"{did} could not be resolved: the DID is deactivated ({ex.Message})",
        DidResolutionError.NoPdsEndpoint => $"the DID document of {did} names no atproto PDS ({ex.Message})",
        DidResolutionError.Refused => $"the PDS of {did} is refused by the SSRF guard ({ex.Message})",
        DidResolutionError.Unreachable => $"{did} could not be resolved: its directory or host did not answer ({ex.Message})",
        _ => $"{did} could not be resolved: {ex.Message}",
    };
}

/// <summary>Registry or broker hiccups are retried a few times; then the fault fails the operation.</summary>
public sealed class StartDidSyncConsumerDefinition : ConsumerDefinition<StartDidSyncConsumer>
{
    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<StartDidSyncConsumer> consumerConfigurator, IRegistrationContext context) =>
        endpointConfigurator.UseMessageRetry(r => r.Intervals(500, 2000, 5000));
}
