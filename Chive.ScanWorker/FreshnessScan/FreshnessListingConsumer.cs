using Chive.AtProto.Xrpc;
using Chive.Contracts.FreshnessScan;
using Chive.Contracts.Operations;
using Chive.Contracts.PdsScan;
using Chive.Messaging;
using MassTransit;

namespace Chive.ScanWorker.FreshnessScan;

/// <summary>
/// One <c>listRepos</c> page (1,000 repos) of a PDS where that is cheaper than asking each stale repo: the revisions of
/// the snapshot's repos are kept for the chunks that follow, which then confirm an unchanged repo with no request of its
/// own. Whatever goes wrong with a listing — the PDS fails, loops, or lists more pages than its size allows — only ends
/// that listing: the repos it did not name are asked one by one, as on any other PDS.
/// </summary>
public sealed class FreshnessListingConsumer(StaleRepos stale, XrpcClient xrpc, OperationGate gate, ILogger<FreshnessListingConsumer> logger)
    : OperationWorkConsumer<FreshnessListing>(gate)
{
    protected override async Task ConsumeAsync(ConsumeContext<FreshnessListing> context, OperationUnit work)
    {
        var unit = context.Message;
        var pds = unit.Pdses[unit.PdsIndex];
        var next = unit.Trail;
        string? cursor = null;
        try
        {
            var page = await xrpc.ListReposPageAsync(new Uri(pds.PdsUrl), unit.Cursor, StaleRepos.ListReposPage, work.Token);
            await stale.RecordListingAsync(unit.OperationId, pds.PdsUrl, page.Repos, work.Token);
            var full = page.Repos.Count + page.InvalidEntries >= StaleRepos.ListReposPage;
            if (full && page.Cursor is not null && unit.Page + 1 < pds.MaxPages)
            {
                next = unit.Trail.Next(page.Cursor, out var cycle);
                cursor = cycle ? null : page.Cursor;
            }
            else if (full && page.Cursor is not null)
            {
                logger.LogWarning("{Pds} listed more than its {Pages} pages: the rest of its stale repos are asked one by one", pds.PdsUrl, pds.MaxPages);
            }
        }
        catch (OperationCanceledException) when (work.IsCancelled)
        {
            return;
        }
        catch (XrpcException ex)
        {
            logger.LogWarning("Listing {Pds} for a freshness scan failed ({Kind}): its stale repos are asked one by one", pds.PdsUrl, ex.Kind);
        }

        if (work.IsCancelled || !await AdvanceAsync(context))
        {
            return;
        }

        await context.Publish(new ScanLaneProgressed(unit.OperationId, Lane: 0, Lanes: 1, unit.Totals, Finished: false));
        if (cursor is not null)
        {
            await context.Publish(unit with { Cursor = cursor, Page = unit.Page + 1, Trail = next, Sequence = unit.Sequence + 1 });
        }
        else if (unit.PdsIndex + 1 < unit.Pdses.Count)
        {
            await context.Publish(unit with { PdsIndex = unit.PdsIndex + 1, Cursor = null, Page = 0, Trail = CursorTrail.Start, Sequence = unit.Sequence + 1 });
        }
        else
        {
            await context.Publish(new FreshnessChunk(unit.OperationId, unit.StartedAt, AfterDid: null, unit.Sequence + 1, unit.Totals));
        }
    }
}

/// <summary>A database or broker hiccup is retried; PDS failures never reach here (they end the listing).</summary>
public sealed class FreshnessListingConsumerDefinition : ConsumerDefinition<FreshnessListingConsumer>
{
    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<FreshnessListingConsumer> consumerConfigurator, IRegistrationContext context) =>
        endpointConfigurator.UseMessageRetry(r => r.Intervals(500, 2000, 5000, 10000));
}
