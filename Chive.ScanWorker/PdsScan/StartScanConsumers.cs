using Chive.AtProto.Identifiers;
using Chive.AtProto.Identity;
using Chive.AtProto.Net;
using Chive.Contracts.Operations;
using Chive.Contracts.PdsScan;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Chive.ScanWorker.PdsScan;

/// <summary>
/// Starts a PDS scan: claims the PDS asked for (registered if unknown) or up to <see cref="PdsScanOptions.MaxPdsesPerScan"/>
/// due PDSes, and deals them round-robin into <see cref="PdsScanOptions.Concurrency"/> lanes, each a chain of chunks
/// that scans its PDSes one after the other.
/// </summary>
public sealed class StartPdsScanConsumer(PdsRegistry registry, IOptions<PdsScanOptions> options, ILogger<StartPdsScanConsumer> logger)
    : IConsumer<StartPdsScan>
{
    public async Task Consume(ConsumeContext<StartPdsScan> context)
    {
        var message = context.Message;
        var owner = message.OperationId.ToString("D");
        IReadOnlyList<string> pdses;
        if (message.PdsUrl is { } url)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || !ServiceOrigin.TryNormalize(uri, out _))
            {
                await context.Publish(new BackfillWorkFailed(message.OperationId, $"'{url}' is not a PDS origin (http(s)://host[:port])"));
                return;
            }

            await registry.RegisterAsync(uri, DiscoverySource.Admin, context.CancellationToken);
            if (!await registry.ClaimAsync(uri, owner, context.CancellationToken))
            {
                var holder = (await registry.GetAsync(uri, context.CancellationToken))?.LeaseOwner;
                await context.Publish(new BackfillWorkFailed(message.OperationId, $"{ServiceOrigin.Normalize(uri)} is being scanned by operation {holder}; try again when it ends"));
                return;
            }

            pdses = [ServiceOrigin.Normalize(uri)];
        }
        else
        {
            pdses = await registry.ClaimDueAsync(owner, options.Value.MaxPdsesPerScan, context.CancellationToken);
        }

        if (pdses.Count == 0)
        {
            logger.LogInformation("PDS scan {OperationId}: no PDS is due", message.OperationId);
            await context.Publish(new BackfillWorkCompleted(message.OperationId, 0, new Dictionary<string, string> { ["pdsesScanned"] = "0" }));
            return;
        }

        var lanes = Math.Min(options.Value.Concurrency, pdses.Count);
        logger.LogInformation("PDS scan {OperationId}: {Count} PDSes in {Lanes} lanes: {Pdses}", message.OperationId, pdses.Count, lanes, pdses);
        var zero = new ScanTotals(0, 0, 0, 0, 0, 0, 0);
        for (var lane = 0; lane < lanes; lane++)
        {
            var mine = pdses.Where((_, i) => i % lanes == lane).ToList();
            await context.Publish(new ScanPdsChunk(message.OperationId, lane, lanes, mine, Did: null, Cursor: null, Sequence: 0, zero, 0));
        }
    }
}

/// <summary>
/// Starts a DID sync: resolves the DID (did:plc through the PLC directory, did:web through its host) to its PDS, which
/// must pass the SSRF guard, registers that PDS (source <c>did_mention</c>) and scans that one repo. An unresolvable
/// DID, a document without a PDS or a refused PDS fails the operation, saying which.
/// </summary>
public sealed class StartDidSyncConsumer(DidResolver resolver, PdsRegistry registry, ILogger<StartDidSyncConsumer> logger) : IConsumer<StartDidSync>
{
    public async Task Consume(ConsumeContext<StartDidSync> context)
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
        await context.Publish(new ScanPdsChunk(message.OperationId, 0, 1, [pds], did.Value, Cursor: null, Sequence: 0, new ScanTotals(0, 0, 0, 0, 0, 0, 0), 0));
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
