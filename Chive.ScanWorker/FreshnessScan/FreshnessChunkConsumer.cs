using Chive.AtProto.Identifiers;
using Chive.AtProto.Identity;
using Chive.AtProto.Net;
using Chive.AtProto.Xrpc;
using Chive.Contracts.FreshnessScan;
using Chive.Contracts.Indexing;
using Chive.Contracts.PdsScan;
using Chive.Messaging;
using Chive.ScanWorker.PdsScan;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Chive.ScanWorker.FreshnessScan;

/// <summary>
/// One unit of a freshness scan: the next <see cref="FreshnessOptions.ReposPerChunk"/> stale repos. Per repo: its DID
/// document (cached) says where it lives now; one <c>getLatestCommit</c> says its current revision. The same revision as
/// at its last complete read → nothing changed: every record of it is confirmed, none fetched. Otherwise the repo is read
/// again from where it lives now (<see cref="RepoReader"/>): changed records re-projected from their new content, new ones
/// added, missing ones marked deleted (<c>pds_404</c>), and its revision recorded. A repo its host took down, or whose
/// account is deleted, has its records removed; a deactivated or suspended one is kept as it is; a PDS that cannot be
/// reached changes nothing — its failures go through that host's backoff and circuit — and the repo stays stale.
/// </summary>
public sealed class FreshnessChunkConsumer(
    StaleRepos stale,
    HeldCollections held,
    RepoReader reader,
    XrpcClient xrpc,
    DidResolver resolver,
    OperationGate gate,
    IOptions<FreshnessOptions> options,
    IOptions<PdsScanOptions> scanOptions,
    ILogger<FreshnessChunkConsumer> logger) : OperationWorkConsumer<FreshnessChunk>(gate)
{
    protected override async Task ConsumeAsync(ConsumeContext<FreshnessChunk> context, OperationUnit work)
    {
        var chunk = context.Message;
        var repos = await stale.NextAsync(chunk.Window, chunk.AfterDid, options.Value.ReposPerChunk, work.Token);
        var heldByRepo = await held.GetAsync(repos.Select(r => r.Did).ToList(), work.Token);
        var batcher = new ScanBatcher(chunk.OperationId, lane: 0, chunk.Sequence, context, scanOptions.Value, chunk.Totals, PdsProgress.Zero);
        try
        {
            foreach (var repo in repos)
            {
                work.Token.ThrowIfCancellationRequested();
                batcher.Pds = PdsProgress.Zero; // the caps bound the reading of one repo here
                await CheckAsync(batcher, repo, heldByRepo.GetValueOrDefault(repo.Did) ?? [], work.Token);
            }
        }
        catch (OperationCanceledException) when (work.IsCancelled)
        {
            logger.LogInformation("Freshness scan {OperationId} cancelled", chunk.OperationId);
            return;
        }

        if (work.IsCancelled)
        {
            return;
        }

        await batcher.FlushAsync();
        if (!await AdvanceAsync(context))
        {
            return;
        }

        var finished = repos.Count < options.Value.ReposPerChunk;
        await context.Publish(new ScanLaneProgressed(chunk.OperationId, Lane: 0, Lanes: 1, batcher.Totals, finished));
        if (!finished)
        {
            await context.Publish(chunk with { AfterDid = repos[^1].Did, Sequence = chunk.Sequence + 1, Totals = batcher.Totals });
        }
    }

    private async Task CheckAsync(ScanBatcher batcher, StaleRepo repo, HashSet<string> held, CancellationToken cancellationToken)
    {
        if (!Did.TryParse(repo.Did, out var did))
        {
            Count(batcher, checkedOut: false, t => t);
            return;
        }

        // Where it lives now: a repo whose DID document names another PDS has moved, and is read from there.
        Uri home;
        try
        {
            var identity = await resolver.ResolveAsync(did, cancellationToken);
            if (!ServiceOrigin.TryNormalize(identity.PdsEndpoint, out var origin))
            {
                throw new DidResolutionException(did, DidResolutionError.MalformedDocument, $"the PDS endpoint {identity.PdsEndpoint} is not a service origin");
            }

            home = new Uri(origin);
        }
        catch (DidResolutionException ex) when (ex.Error is DidResolutionError.Deactivated)
        {
            logger.LogInformation("{Did}'s DID is deactivated (tombstoned): its records are removed", did);
            await batcher.RemoveRepoAsync(did.Value, "account_deleted");
            Count(batcher, checkedOut: true, t => t with { ReposGone = t.ReposGone + 1 });
            return;
        }
        catch (DidResolutionException ex)
        {
            logger.LogInformation("{Did} could not be resolved ({Error}): nothing changed, checked again next time", did, ex.Message);
            Count(batcher, checkedOut: false, t => t with { ReposUnreachable = t.ReposUnreachable + 1 });
            return;
        }

        var moved = repo.PdsUrl is not null && repo.PdsUrl != ServiceOrigin.Normalize(home);
        LatestCommit commit;
        try
        {
            batcher.Spend();
            commit = await xrpc.GetLatestCommitAsync(home, did, cancellationToken);
        }
        catch (XrpcException ex) when (ex.Kind is XrpcErrorKind.RepoTakendown or XrpcErrorKind.RepoNotFound)
        {
            var source = ex.Kind == XrpcErrorKind.RepoTakendown ? "takedown" : "account_deleted";
            logger.LogInformation("{Did} on {Pds}: {Kind}: its records are removed ({Source})", did, home, ex.Kind, source);
            await batcher.RemoveRepoAsync(did.Value, source);
            Count(batcher, checkedOut: true, t => t with { ReposGone = t.ReposGone + 1 });
            return;
        }
        catch (XrpcException ex) when (ex.Kind is XrpcErrorKind.RepoDeactivated or XrpcErrorKind.RepoSuspended)
        {
            logger.LogInformation("{Did} on {Pds}: {Kind}: kept as it is, checked again next time", did, home, ex.Kind);
            Count(batcher, checkedOut: false, t => t with { ReposDeactivated = t.ReposDeactivated + 1 });
            return;
        }
        catch (XrpcException ex)
        {
            logger.LogWarning("{Did} on {Pds} could not be checked ({Kind}): nothing changed", did, home, ex.Kind);
            Count(batcher, checkedOut: false, t => t with { ReposUnreachable = t.ReposUnreachable + 1 });
            return;
        }

        if (moved)
        {
            batcher.Totals = batcher.Totals with { ReposMoved = batcher.Totals.ReposMoved + 1 };
            logger.LogInformation("{Did} moved from {From} to {To}: read from its new PDS", did, repo.PdsUrl, home);
        }
        else if (commit.Rev == repo.Rev)
        {
            await batcher.RepoSyncedAsync(did.Value, ServiceOrigin.Normalize(home), commit.Rev, commit.Cid.Value, unchanged: true);
            Count(batcher, checkedOut: true, t => t with { ReposUnchanged = t.ReposUnchanged + 1 });
            return;
        }

        RepoRead read;
        try
        {
            read = await reader.ReadAsync(batcher, home, did, held, SweepCollection.Pds404, cancellationToken);
        }
        catch (XrpcException ex)
        {
            logger.LogWarning("{Did} on {Pds} could not be read ({Kind}): what was read is kept, nothing is removed", did, home, ex.Kind);
            Count(batcher, checkedOut: false, t => t with { ReposUnreachable = t.ReposUnreachable + 1 });
            return;
        }
        catch (ScanLimitReachedException ex)
        {
            logger.LogWarning("{Did} on {Pds}: {Reason}; what was read is kept, nothing is removed", did, home, ex.Message);
            Count(batcher, checkedOut: false, t => t with { ReposUnreachable = t.ReposUnreachable + 1 });
            return;
        }

        switch (read)
        {
            case RepoRead.Complete or RepoRead.Empty:
                await batcher.RepoSyncedAsync(did.Value, ServiceOrigin.Normalize(home), commit.Rev, commit.Cid.Value, unchanged: false);
                break;
            case RepoRead.NotHosted:
                Count(batcher, checkedOut: false, t => t);
                break;
        }
    }

    /// <summary>A repo's outcome in the totals: checked out (done) or left stale (skipped), and its kind.</summary>
    private static void Count(ScanBatcher batcher, bool checkedOut, Func<ScanTotals, ScanTotals> kind)
    {
        var totals = kind(batcher.Totals);
        batcher.Totals = checkedOut ? totals with { ReposDone = totals.ReposDone + 1 } : totals with { ReposSkipped = totals.ReposSkipped + 1 };
    }
}

/// <summary>
/// Transient failures (the database, the broker) are retried; PDS failures never reach here (they are a repo's outcome).
/// Batches leave as soon as they are full; the next chunk is the last publish, after the chain moved on.
/// </summary>
public sealed class FreshnessChunkConsumerDefinition : ConsumerDefinition<FreshnessChunkConsumer>
{
    public FreshnessChunkConsumerDefinition() => ConcurrentMessageLimit = 4;

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<FreshnessChunkConsumer> consumerConfigurator, IRegistrationContext context) =>
        endpointConfigurator.UseMessageRetry(r => r.Intervals(500, 2000, 5000, 10000));
}
