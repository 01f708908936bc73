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
/// One unit of a freshness scan: the next <see cref="FreshnessOptions.ReposPerChunk"/> repos of its snapshot. Per repo: its DID
/// document (cached) says where it lives now; this scan's listing of that PDS (<see cref="FreshnessListingConsumer"/>),
/// or else one <c>getLatestCommit</c>, says its current revision. The same revision as at its last complete read →
/// nothing changed: every record of it is confirmed, none fetched. Otherwise the repo is read
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
        var repos = await stale.NextAsync(chunk.OperationId, chunk.AfterDid, options.Value.ReposPerChunk, work.Token);
        var heldByRepo = await held.GetAsync(repos.Select(r => r.Did).ToList(), work.Token, removedSince: chunk.StartedAt);
        var batcher = new ScanBatcher(chunk.OperationId, lane: 0, chunk.Sequence, context, scanOptions.Value, chunk.Totals, PdsProgress.Zero);
        try
        {
            foreach (var repo in repos)
            {
                work.Token.ThrowIfCancellationRequested();
                batcher.Pds = PdsProgress.Zero; // the per-PDS caps bound the requests for one repo here
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
        if (finished)
        {
            await stale.ForgetAsync(chunk.OperationId, context.CancellationToken);
        }
        else
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

        var home = await HomeAsync(batcher, did, cancellationToken);
        if (home is null)
        {
            return;
        }

        // The current revision: from this scan's listing of the PDS if it named the repo as active, else one request.
        (string Rev, string? Cid) current;
        if (repo.Listed is { Active: true } listed && listed.PdsUrl == ServiceOrigin.Normalize(home))
        {
            current = (listed.Rev, listed.CommitCid);
        }
        else
        {
            try
            {
                current = await LatestCommitAsync(batcher, home, did, cancellationToken);
            }
            catch (XrpcException ex) when (IsAccountState(ex))
            {
                // Before believing that the account is gone or inactive, make sure its DID document still names this PDS
                // (ours may be cached from before a move): the PDS it names now is the one asked.
                resolver.Invalidate(did);
                var now = await HomeAsync(batcher, did, cancellationToken);
                if (now is null)
                {
                    return;
                }

                if (now == home)
                {
                    await AccountStateAsync(batcher, did, home, ex);
                    return;
                }

                home = now;
                try
                {
                    current = await LatestCommitAsync(batcher, home, did, cancellationToken);
                }
                catch (XrpcException again) when (IsAccountState(again))
                {
                    await AccountStateAsync(batcher, did, home, again);
                    return;
                }
                catch (XrpcException again)
                {
                    Unreachable(batcher, did, home, again);
                    return;
                }
            }
            catch (XrpcException ex)
            {
                Unreachable(batcher, did, home, ex);
                return;
            }
        }

        var origin = ServiceOrigin.Normalize(home);
        if (repo.PdsUrl is not null && repo.PdsUrl != origin)
        {
            batcher.Totals = batcher.Totals with { ReposMoved = batcher.Totals.ReposMoved + 1 };
            logger.LogInformation("{Did} moved from {From} to {To}: read from its new PDS", did, repo.PdsUrl, origin);
        }
        else if (current.Rev == repo.Rev)
        {
            await batcher.RepoSyncedAsync(did.Value, origin, current.Rev, current.Cid, unchanged: true);
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
                await batcher.RepoSyncedAsync(did.Value, origin, current.Rev, current.Cid, unchanged: false);
                break;
            case RepoRead.NotHosted:
                Count(batcher, checkedOut: false, t => t);
                break;
        }
    }

    /// <summary>
    /// Where the repo lives now, by its DID document (cached by the resolver). A tombstoned DID has its records removed
    /// (<c>account_deleted</c>); one that cannot be resolved changes nothing. Either way the repo is counted, and null returned.
    /// </summary>
    private async Task<Uri?> HomeAsync(ScanBatcher batcher, Did did, CancellationToken cancellationToken)
    {
        try
        {
            var identity = await resolver.ResolveAsync(did, cancellationToken);
            return ServiceOrigin.TryNormalize(identity.PdsEndpoint, out var origin)
                ? new Uri(origin)
                : throw new DidResolutionException(did, DidResolutionError.MalformedDocument, $"the PDS endpoint {identity.PdsEndpoint} is not a service origin");
        }
        catch (DidResolutionException ex) when (ex.Error is DidResolutionError.Deactivated)
        {
            logger.LogInformation("{Did}'s DID is deactivated (tombstoned): its records are removed", did);
            await batcher.RemoveRepoAsync(did.Value, "account_deleted");
            Count(batcher, checkedOut: true, t => t with { ReposGone = t.ReposGone + 1 });
            return null;
        }
        catch (DidResolutionException ex)
        {
            logger.LogInformation("{Did} could not be resolved ({Error}): nothing changed, checked again next time", did, ex.Message);
            Count(batcher, checkedOut: false, t => t with { ReposUnreachable = t.ReposUnreachable + 1 });
            return null;
        }
    }

    private async Task<(string Rev, string? Cid)> LatestCommitAsync(ScanBatcher batcher, Uri home, Did did, CancellationToken cancellationToken)
    {
        batcher.Spend();
        var commit = await xrpc.GetLatestCommitAsync(home, did, cancellationToken);
        return (commit.Rev, commit.Cid.Value);
    }

    /// <summary>The PDS speaks of the account: gone (taken down, deleted) or inactive (deactivated, suspended).</summary>
    private static bool IsAccountState(XrpcException ex) =>
        ex.Kind is XrpcErrorKind.RepoTakendown or XrpcErrorKind.RepoNotFound or XrpcErrorKind.RepoDeactivated or XrpcErrorKind.RepoSuspended;

    /// <summary>
    /// The account's state, as the PDS its DID document names says: taken down or deleted → its records removed
    /// (<c>takedown</c>, <c>account_deleted</c>); deactivated or suspended → kept as they are, checked again next time.
    /// </summary>
    private async Task AccountStateAsync(ScanBatcher batcher, Did did, Uri home, XrpcException ex)
    {
        if (ex.Kind is XrpcErrorKind.RepoTakendown or XrpcErrorKind.RepoNotFound)
        {
            var source = ex.Kind == XrpcErrorKind.RepoTakendown ? "takedown" : "account_deleted";
            logger.LogInformation("{Did} on {Pds}: {Kind}: its records are removed ({Source})", did, home, ex.Kind, source);
            await batcher.RemoveRepoAsync(did.Value, source);
            Count(batcher, checkedOut: true, t => t with { ReposGone = t.ReposGone + 1 });
            return;
        }

        logger.LogInformation("{Did} on {Pds}: {Kind}: kept as it is, checked again next time", did, home, ex.Kind);
        Count(batcher, checkedOut: false, t => t with { ReposDeactivated = t.ReposDeactivated + 1 });
    }

    private void Unreachable(ScanBatcher batcher, Did did, Uri home, XrpcException ex)
    {
        logger.LogWarning("{Did} on {Pds} could not be checked ({Kind}): nothing changed", did, home, ex.Kind);
        Count(batcher, checkedOut: false, t => t with { ReposUnreachable = t.ReposUnreachable + 1 });
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
