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
/// document (cached; several repos at once) says where it lives now; this scan's listing of that PDS (<see cref="FreshnessListingConsumer"/>),
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
    PdsRegistry registry,
    XrpcClient xrpc,
    DidResolver resolver,
    OperationGate gate,
    IOptions<FreshnessOptions> options,
    IOptions<PdsScanOptions> scanOptions,
    IOptions<SyncOptions> sync,
    ILogger<FreshnessChunkConsumer> logger) : OperationWorkConsumer<FreshnessChunk>(gate)
{
    protected override async Task ConsumeAsync(ConsumeContext<FreshnessChunk> context, OperationUnit work)
    {
        var chunk = context.Message;
        var repos = await stale.NextAsync(chunk.OperationId, chunk.AfterDid, options.Value.ReposPerChunk, work.Token);
        var heldByRepo = await held.GetAsync(repos.Select(r => r.Did).ToList(), work.Token, removedSince: chunk.StartedAt);
        await using var batcher = new ScanBatcher(chunk.OperationId, lane: 0, chunk.Sequence, context, scanOptions.Value, chunk.Totals, PdsProgress.Zero, logger);
        // Where each repo lives and its current revision (its probe): network only, Freshness:Concurrency repos at once,
        // started in DID order (each host is still paced by its own limiter). What follows from each probe is applied in
        // DID order as soon as it and those before it are known — the batches go out in the same order whenever the unit
        // runs — while the later repos are still being probed. In verified mode the repos to read again whose probes are
        // known are also fetched ahead (PdsScan:ReposInFlight at a time: describeRepo, DID document, getRepo and
        // verification); listing mode reads each repo as it applies it. The caps bound one repo's reading here, so each
        // fetch gets the whole budget.
        var ahead = sync.Value.Mode == SyncMode.Verified ? scanOptions.Value.ReposInFlight : 0;
        var probes = new Task<Probe>[repos.Count];
        var fetches = new Task<FetchedRepo>?[repos.Count];
        var (nextFetch, pending) = (0, 0);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(work.Token);
        using var lookups = new SemaphoreSlim(options.Value.Concurrency);
        try
        {
            for (var i = 0; i < repos.Count; i++)
            {
                probes[i] = ProbeInTurnAsync(repos[i], lookups, stop.Token);
            }

            batcher.Pds = PdsProgress.Zero;
            var budget = batcher.RequestBudget();
            for (var i = 0; i < repos.Count; i++)
            {
                work.Token.ThrowIfCancellationRequested();
                // Ahead only over probes already known: waiting for later ones here would hold up this repo's apply.
                while (ahead > 0 && nextFetch < repos.Count && (nextFetch <= i || (pending < ahead && probes[nextFetch].IsCompleted)))
                {
                    var probe = await probes[nextFetch];
                    if (ReadAgain(repos[nextFetch], probe))
                    {
                        var collections = heldByRepo.GetValueOrDefault(repos[nextFetch].Did) ?? [];
                        fetches[nextFetch] = reader.FetchAsync(probe.Home!, probe.Did!, collections, budget, stop.Token);
                        pending++;
                    }

                    nextFetch++;
                }

                if (fetches[i] is not null)
                {
                    pending--;
                }

                batcher.Pds = PdsProgress.Zero; // the per-PDS caps bound the reading of one repo here
                await ApplyAsync(batcher, repos[i], await probes[i], heldByRepo.GetValueOrDefault(repos[i].Did) ?? [], fetches[i], work.Token);
            }
        }
        catch (OperationCanceledException) when (work.IsCancelled)
        {
            logger.LogInformation("Freshness scan {OperationId} cancelled", chunk.OperationId);
            return;
        }
        finally
        {
            // A unit that ends early (a cancel, a failure of the database or broker) does not want what it probed or fetched
            // ahead: stopped, and waited for so no request outlives the unit.
            await stop.CancelAsync();
            foreach (var task in probes.Concat<Task?>(fetches).OfType<Task>())
            {
                await task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                if (task.Exception is { } unwanted)
                {
                    logger.LogDebug(unwanted, "A repo probed or fetched for freshness scan {OperationId} failed, its outcome not applied (the unit ended early)", chunk.OperationId);
                }
            }
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

    /// <summary>What the network says of one repo: where it lives, and its current revision or why there is none.</summary>
    private sealed record Probe(ProbeKind Kind, Did? Did = null, Uri? Home = null, string? Rev = null, string? CommitCid = null, Exception? Error = null);

    private enum ProbeKind
    {
        /// <summary>Its current revision is known (<see cref="Probe.Rev"/>), from where it lives (<see cref="Probe.Home"/>).</summary>
        Current,

        /// <summary>Not a DID (the snapshot holds what the index held).</summary>
        NotADid,

        /// <summary>A did:plc tombstoned in its directory: the account is deleted.</summary>
        Tombstoned,

        /// <summary>The DID document could not be resolved, or names no usable PDS.</summary>
        Unresolved,

        /// <summary>The PDS the DID document names says the account is gone or inactive (<see cref="Probe.Error"/>).</summary>
        AccountState,

        /// <summary>The PDS could not be asked (refused, timeout, 5xx, circuit open, rate limited, an unusable answer).</summary>
        Unreachable,
    }

    /// <summary>The repo's probe once one of the unit's <paramref name="lookups"/> is free.</summary>
    private async Task<Probe> ProbeInTurnAsync(StaleRepo repo, SemaphoreSlim lookups, CancellationToken cancellationToken)
    {
        await lookups.WaitAsync(cancellationToken);
        try
        {
            return await ProbeAsync(repo, cancellationToken);
        }
        finally
        {
            lookups.Release();
        }
    }

    private async Task<Probe> ProbeAsync(StaleRepo repo, CancellationToken cancellationToken)
    {
        if (!Did.TryParse(repo.Did, out var did))
        {
            return new Probe(ProbeKind.NotADid);
        }

        var home = await HomeAsync(did, cancellationToken);
        if (home.Kind != ProbeKind.Current)
        {
            return home;
        }

        // The current revision: from this scan's listing of the PDS if it named the repo as active, else one request.
        if (repo.Listed is { Active: true } listed && listed.PdsUrl == ServiceOrigin.Normalize(home.Home!))
        {
            return home with { Rev = listed.Rev, CommitCid = listed.CommitCid };
        }

        var asked = await LatestCommitAsync(home, cancellationToken);
        if (asked.Kind != ProbeKind.AccountState)
        {
            return asked;
        }

        // Before believing that the account is gone or inactive, make sure its DID document still names this PDS (ours
        // may be cached from before a move): the PDS it names now is the one asked.
        resolver.Invalidate(did);
        var now = await HomeAsync(did, cancellationToken);
        if (now.Kind != ProbeKind.Current)
        {
            return now;
        }

        return now.Home == home.Home ? asked : await LatestCommitAsync(now, cancellationToken);
    }

    /// <summary>Where the repo lives now, by its DID document (cached by the resolver).</summary>
    private async Task<Probe> HomeAsync(Did did, CancellationToken cancellationToken)
    {
        try
        {
            var identity = await resolver.ResolveAsync(did, cancellationToken);
            return ServiceOrigin.TryNormalize(identity.PdsEndpoint, out var origin)
                ? new Probe(ProbeKind.Current, did, new Uri(origin))
                : new Probe(ProbeKind.Unresolved, did, Error: new DidResolutionException(
                    did, DidResolutionError.MalformedDocument, $"the PDS endpoint {identity.PdsEndpoint} is not a service origin"));
        }
        catch (DidResolutionException ex)
        {
            return new Probe(ex.Error is DidResolutionError.Deactivated ? ProbeKind.Tombstoned : ProbeKind.Unresolved, did, Error: ex);
        }
    }

    private async Task<Probe> LatestCommitAsync(Probe home, CancellationToken cancellationToken)
    {
        try
        {
            var commit = await xrpc.GetLatestCommitAsync(home.Home!, home.Did!, cancellationToken);
            return home with { Rev = commit.Rev, CommitCid = commit.Cid.Value };
        }
        catch (XrpcException ex)
        {
            return home with { Kind = IsAccountState(ex) ? ProbeKind.AccountState : ProbeKind.Unreachable, Error = ex };
        }
    }

    /// <summary>
    /// Whether the repo is read again: it lives where we can ask and has moved, or its revision is not the one of its last
    /// complete read.
    /// </summary>
    private static bool ReadAgain(StaleRepo repo, Probe probe) =>
        probe.Kind == ProbeKind.Current && (Moved(repo, probe) || probe.Rev != repo.Rev);

    private static bool Moved(StaleRepo repo, Probe probe) => repo.PdsUrl is not null && repo.PdsUrl != ServiceOrigin.Normalize(probe.Home!);

    /// <summary>
    /// What follows for one repo from its probe: counted, removed, confirmed or read again — from <paramref name="fetched"/>
    /// when it was fetched ahead (verified mode), else read now.
    /// </summary>
    private async Task ApplyAsync(ScanBatcher batcher, StaleRepo repo, Probe probe, HashSet<string> held, Task<FetchedRepo>? fetched, CancellationToken cancellationToken)
    {
        switch (probe.Kind)
        {
            case ProbeKind.NotADid:
                Count(batcher, checkedOut: false, t => t);
                return;
            case ProbeKind.Tombstoned:
                logger.LogInformation("{Did}'s DID is deactivated (tombstoned): its records are removed", probe.Did);
                await batcher.RemoveRepoAsync(repo.Did, "account_deleted");
                Count(batcher, checkedOut: true, t => t with { ReposGone = t.ReposGone + 1 });
                return;
            case ProbeKind.Unresolved:
                logger.LogInformation("{Did} could not be resolved ({Error}): nothing changed, checked again next time", probe.Did, probe.Error!.Message);
                Count(batcher, checkedOut: false, t => t with { ReposUnreachable = t.ReposUnreachable + 1 });
                return;
            case ProbeKind.AccountState:
                await AccountStateAsync(batcher, probe);
                return;
            case ProbeKind.Unreachable:
                logger.LogWarning("{Did} on {Pds} could not be checked ({Kind}): nothing changed", probe.Did, probe.Home, ((XrpcException)probe.Error!).Kind);
                Count(batcher, checkedOut: false, t => t with { ReposUnreachable = t.ReposUnreachable + 1 });
                return;
        }

        var (did, home) = (probe.Did!, probe.Home!);
        var origin = ServiceOrigin.Normalize(home);
        if (Moved(repo, probe))
        {
            batcher.Totals = batcher.Totals with { ReposMoved = batcher.Totals.ReposMoved + 1 };
            logger.LogInformation("{Did} moved from {From} to {To}: read from its new PDS", did, repo.PdsUrl, origin);
        }
        else if (!ReadAgain(repo, probe))
        {
            await batcher.RepoSyncedAsync(did.Value, origin, probe.Rev!, probe.CommitCid, unchanged: true);
            Count(batcher, checkedOut: true, t => t with { ReposUnchanged = t.ReposUnchanged + 1 });
            return;
        }

        var counted = (batcher.Totals.ReposDone, batcher.Totals.ReposSkipped);
        RepoReadResult read;
        try
        {
            read = fetched is not null
                ? await reader.ApplyAsync(batcher, home, did, await fetched, SweepCollection.Pds404)
                : await reader.ReadAsync(batcher, home, did, held, SweepCollection.Pds404, cancellationToken);
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

        switch (read.Outcome)
        {
            case RepoRead.Complete or RepoRead.Empty:
                // The signed commit read, when the repo was read as a CAR; else the revision probed before the read.
                await batcher.RepoSyncedAsync(did.Value, origin, read.Rev ?? probe.Rev!, read.Rev is null ? probe.CommitCid : read.CommitCid, unchanged: false,
                    verified: read.Rev is not null);
                break;
            case RepoRead.Unverified:
                await registry.ChargeAsync(home, $"a repo did not verify: {batcher.Pds.Unverified}", cancellationToken);
                break;
        }

        // Each repo checked counts once, as done or skipped. The reader counts most outcomes itself (done; skipped for an
        // answer about the repo it cannot use, or a DID document it cannot resolve) but not a repo whose document names
        // another PDS, nor one that did not verify (whoever is at fault): those are skipped here — counting by outcome
        // counted an unresolved document twice and a signature unchecked for want of the document not at all.
        if ((batcher.Totals.ReposDone, batcher.Totals.ReposSkipped) == counted)
        {
            Count(batcher, checkedOut: false, t => t);
        }
    }

    /// <summary>The PDS speaks of the account: gone (taken down, deleted) or inactive (deactivated, suspended).</summary>
    private static bool IsAccountState(XrpcException ex) =>
        ex.Kind is XrpcErrorKind.RepoTakendown or XrpcErrorKind.RepoNotFound or XrpcErrorKind.RepoDeactivated or XrpcErrorKind.RepoSuspended;

    /// <summary>
    /// The account's state, as the PDS its DID document names says: taken down or deleted → its records removed
    /// (<c>takedown</c>, <c>account_deleted</c>); deactivated or suspended → kept as they are, checked again next time.
    /// </summary>
    private async Task AccountStateAsync(ScanBatcher batcher, Probe probe)
    {
        var kind = ((XrpcException)probe.Error!).Kind;
        if (kind is XrpcErrorKind.RepoTakendown or XrpcErrorKind.RepoNotFound)
        {
            var source = kind == XrpcErrorKind.RepoTakendown ? "takedown" : "account_deleted";
            logger.LogInformation("{Did} on {Pds}: {Kind}: its records are removed ({Source})", probe.Did, probe.Home, kind, source);
            await batcher.RemoveRepoAsync(probe.Did!.Value, source);
            Count(batcher, checkedOut: true, t => t with { ReposGone = t.ReposGone + 1 });
            return;
        }

        logger.LogInformation("{Did} on {Pds}: {Kind}: kept as it is, checked again next time", probe.Did, probe.Home, kind);
        Count(batcher, checkedOut: false, t => t with { ReposDeactivated = t.ReposDeactivated + 1 });
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
