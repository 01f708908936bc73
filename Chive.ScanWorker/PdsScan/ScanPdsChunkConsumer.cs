using Chive.AtProto.Identifiers;
using Chive.AtProto.Net;
using Chive.AtProto.Xrpc;
using Chive.Contracts.Indexing;
using Chive.Contracts.Operations;
using Chive.Contracts.PdsScan;
using Chive.Messaging;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Chive.ScanWorker.PdsScan;

/// <summary>
/// One unit of a scan lane: one <c>listRepos</c> page of the lane's current PDS (or, for a DID sync, the one repo), each
/// active repo read by <see cref="RepoReader"/> (provenance, every Chive collection, sweeps after clean listings) into a
/// <see cref="ScanBatcher"/>, and its revision recorded (<see cref="RepoSynced"/>) when it was read completely and
/// cleanly. A cursor that comes round again, or more requests, repos or records than the per-PDS caps, stops the PDS as
/// limited. A PDS that fails (unreachable, timeout, 5xx after retries) is recorded as a failure in the registry — never
/// as "no records" — and the lane goes on with its next PDS; an answer about one repo that is unusable skips that repo
/// only. A cancel trips the token: the request in flight ends, claims are given back, nothing more is sent.
/// </summary>
public sealed class ScanPdsChunkConsumer(
    XrpcClient xrpc,
    RepoReader reader,
    PdsRegistry registry,
    HeldCollections held,
    VerifiedCommits verifiedCommits,
    OperationGate gate,
    IOptions<PdsScanOptions> options,
    IOptions<SyncOptions> sync,
    ILogger<ScanPdsChunkConsumer> logger) : OperationWorkConsumer<ScanPdsChunk>(gate)
{
    protected override Task DroppedAsync(ConsumeContext<ScanPdsChunk> context, string status) =>
        ReleaseAsync(context.Message, context.Message.OperationId.ToString("D"));

    protected override async Task ConsumeAsync(ConsumeContext<ScanPdsChunk> context, OperationUnit work)
    {
        var chunk = context.Message;
        var owner = chunk.OperationId.ToString("D");
        var pds = new Uri(chunk.Pdses[0]);
        await using var batcher = new ScanBatcher(chunk.OperationId, chunk.Lane, chunk.Sequence, context, options.Value, chunk.Totals, chunk.Pds, logger);
        // Which process took which unit, when there are replicas.
        logger.LogDebug("Scan unit {Sequence} of lane {Lane} of operation {OperationId} on {Pds} started in process {ProcessId}",
            chunk.Sequence, chunk.Lane, chunk.OperationId, pds, Environment.ProcessId);
        string? next = null;
        try
        {
            if (chunk.Did is { } single)
            {
                await SyncOneRepoAsync(batcher, pds, Did.Parse(single), work.Token);
            }
            else if (!await registry.ClaimAsync(pds, owner, work.Token))
            {
                logger.LogWarning("Operation {OperationId} lost its claim on {Pds} (its lease lapsed and another scan took it): skipping it", chunk.OperationId, pds);
                await NextPdsAsync(batcher, context, PdsOutcome.Skipped);
                return;
            }
            else
            {
                next = await ScanReposPageAsync(batcher, chunk, pds, work.Token);
            }
        }
        catch (OperationCanceledException) when (work.IsCancelled)
        {
            logger.LogInformation("Scan lane {Lane} of operation {OperationId} cancelled on {Pds}", chunk.Lane, chunk.OperationId, pds);
            await ReleaseAsync(chunk, owner);
            return;
        }
        catch (ScanLimitReachedException limit) when (!work.IsCancelled)
        {
            batcher.Limit = limit.Message;
        }
        catch (XrpcException ex) when (!work.IsCancelled)
        {
            await batcher.FlushAsync();
            if (chunk.Did is not null)
            {
                logger.LogWarning("DID sync {OperationId}: the PDS {Pds} of {Did} failed: {Error}", chunk.OperationId, pds, chunk.Did, ex.Message);
                if (await AdvanceAsync(context))
                {
                    await context.Publish(new BackfillWorkFailed(chunk.OperationId, $"the PDS {pds} of {chunk.Did} failed: {ex.Message}"));
                }

                return;
            }

            logger.LogWarning("PDS {Pds} failed during operation {OperationId}: {Error}", pds, chunk.OperationId, ex.Message);
            await registry.FailAsync(pds, owner, ex.Message, context.CancellationToken);
            await NextPdsAsync(batcher, context, PdsOutcome.Failed);
            return;
        }

        if (work.IsCancelled)
        {
            await ReleaseAsync(chunk, owner);
            return;
        }

        await batcher.FlushAsync();
        if (batcher.Limit is { } reason)
        {
            logger.LogWarning("Scan of {Pds} by operation {OperationId} stopped: {Reason}", pds, chunk.OperationId, reason);
            if (chunk.Did is null)
            {
                await registry.LimitAsync(pds, owner, (int)Math.Min(int.MaxValue, batcher.Pds.ChiveRecords()), reason, context.CancellationToken);
                if (batcher.Pds.Unverified is { } unverified)
                {
                    await registry.ChargeAsync(pds, $"a repo did not verify: {unverified}", context.CancellationToken); // a cap does not excuse it
                }
            }

            await NextPdsAsync(batcher, context, PdsOutcome.Limited);
            return;
        }

        if (next is not null)
        {
            if (!await AdvanceAsync(context))
            {
                return;
            }

            await context.Publish(new ScanLaneProgressed(chunk.OperationId, chunk.Lane, chunk.Lanes, batcher.Totals, Finished: false));
            await context.Publish(chunk with { Cursor = next, Sequence = chunk.Sequence + 1, Totals = batcher.Totals, Pds = batcher.Pds });
            return;
        }

        var chiveRecords = (int)Math.Min(int.MaxValue, batcher.Pds.ChiveRecords());
        if (chunk.Did is null && !await registry.CompleteAsync(pds, owner, chiveRecords, batcher.Pds.Repos, batcher.Pds.Unverified, context.CancellationToken))
        {
            logger.LogInformation("Operation {OperationId} no longer holds {Pds}: its outcome was recorded before", chunk.OperationId, pds);
        }

        await NextPdsAsync(batcher, context, PdsOutcome.Scanned);
    }

    /// <summary>
    /// Scans one <c>listRepos</c> page; returns the cursor of the next page, or null after the last. In verified mode a repo
    /// listed with the head we recorded as verified for it on this PDS is confirmed unread (<see cref="PdsScanOptions.SkipUnchangedRepos"/>)
    /// unless the trigger said <c>force</c>; which repos those are is fixed the first time the unit runs.
    /// </summary>
    private async Task<string?> ScanReposPageAsync(ScanBatcher batcher, ScanPdsChunk chunk, Uri pds, CancellationToken cancellationToken)
    {
        var cursor = chunk.Cursor;
        batcher.Spend();
        var page = await xrpc.ListReposPageAsync(pds, cursor, options.Value.ReposPerChunk, cancellationToken);
        var active = page.Repos.Where(r => r.Active).DistinctBy(r => r.Did).ToList();
        batcher.CountRepos(page.Repos.Count);
        batcher.Totals = batcher.Totals with
        {
            ReposKnown = batcher.Totals.ReposKnown + page.Repos.Count,
            ReposSkipped = batcher.Totals.ReposSkipped + (page.Repos.Count - active.Count),
        };
        var dids = active.Select(r => r.Did.Value).ToList();
        var heldByRepo = await held.GetAsync(dids, cancellationToken);
        var skip = !chunk.Force && options.Value.SkipUnchangedRepos && sync.Value.Mode == SyncMode.Verified;
        var recorded = skip
            ? await verifiedCommits.GetAsync(chunk.OperationId, chunk.Lane, chunk.Sequence, dids, cancellationToken)
            : new Dictionary<string, VerifiedCommit>();
        var origin = ServiceOrigin.Normalize(pds);
        VerifiedCommit? Unchanged(RepoEntry repo) =>
            recorded.TryGetValue(repo.Did.Value, out var commit) && commit.PdsUrl == origin && repo.Head == commit.CommitCid ? commit : null;

        // In verified mode the next repos are fetched while one is applied (PdsScanOptions.ReposInFlight). The repo to
        // apply next is fetched within exactly what the request cap leaves, and one further ahead only while the cap
        // leaves room for every repo before it to take its two requests: the cap is never passed. A unit stopped by
        // something else (the records cap, a failed host, a cancel) may leave repos fetched ahead and unused. Listing
        // mode reads each repo as it applies it.
        var ahead = sync.Value.Mode == SyncMode.Verified ? options.Value.ReposInFlight : 1;
        var fetches = new Task<RepoAhead>[active.Count];
        var started = 0;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            for (var i = 0; i < active.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                while (started < active.Count && started - i < ahead && (started == i || batcher.RequestBudget(started - i) >= 2))
                {
                    fetches[started] = FetchAheadAsync(active[started], Unchanged(active[started]), ahead > 1, batcher.RequestBudget(started - i), stop.Token);
                    started++;
                }

                var (repo, unchanged, host, fetched) = await fetches[i];
                if (unchanged is { } commit)
                {
                    // The same CID is the same signed commit, and so the same records as the verified read that recorded it. The
                    // PDS could claim an old head while the repo moved on — no more than withholding a change, which the
                    // account's own PDS can do anyway (it holds the signing key); it cannot make us take anything new.
                    if (reader.IsHosted(batcher, pds, repo.Did, host))
                    {
                        await batcher.RepoSyncedAsync(repo.Did.Value, origin, commit.Rev, commit.CommitCid, unchanged: true, verified: true);
                        batcher.Totals = batcher.Totals with { ReposDone = batcher.Totals.ReposDone + 1, ReposUnchanged = batcher.Totals.ReposUnchanged + 1 };
                        batcher.Pds = batcher.Pds with { Confirmed = batcher.Pds.Confirmed + commit.Records }; // the registry's count, not the cap's
                    }

                    continue;
                }

                var held = heldByRepo.GetValueOrDefault(repo.Did.Value) ?? [];
                var read = fetched is not null
                    ? await reader.ApplyAsync(batcher, pds, repo.Did, fetched, SweepCollection.ScanMissing)
                    : await reader.ReadAsync(batcher, pds, repo.Did, held, SweepCollection.ScanMissing, cancellationToken);
                // The signed commit read (verified mode); else the revision listRepos gave before the repo was read: a repo that
                // changed meanwhile is read again by the next freshness scan, never missed by it.
                if (read is { Outcome: RepoRead.Complete, Rev: { } signed })
                {
                    await batcher.RepoSyncedAsync(repo.Did.Value, origin, signed, read.CommitCid, unchanged: false, verified: true);
                }
                else if (read.Outcome == RepoRead.Complete && LatestCommit.IsRev(repo.Rev))
                {
                    var head = Cid.TryParse(repo.Head, out var cid, out _) ? cid.Value : null;
                    await batcher.RepoSyncedAsync(repo.Did.Value, origin, repo.Rev, head, unchanged: false);
                }
            }
        }
        finally
        {
            // A unit that ends early (a cap, a cancel, a failed PDS) does not want what it fetched ahead: stopped, and waited
            // for so no request outlives the unit.
            await stop.CancelAsync();
            foreach (var fetch in fetches.Take(started))
            {
                await ((Task)fetch).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                if (fetch.Exception is { } unwanted)
                {
                    logger.LogDebug(unwanted, "A repo of {Pds} fetched ahead was not wanted (the unit ended early) and failed", pds);
                }
            }
        }

        Task<RepoAhead> FetchAheadAsync(RepoEntry repo, VerifiedCommit? unchanged, bool fetchWhole, int budget, CancellationToken token) =>
            unchanged is not null ? CheckAsync(repo, unchanged, token)
            : fetchWhole ? FetchAsync(repo, budget, token)
            : Task.FromResult(new RepoAhead(repo, null, default, null));

        async Task<RepoAhead> CheckAsync(RepoEntry repo, VerifiedCommit unchanged, CancellationToken token) =>
            new(repo, unchanged, await reader.CheckHostAsync(pds, repo.Did, token), null);

        async Task<RepoAhead> FetchAsync(RepoEntry repo, int budget, CancellationToken token) =>
            new(repo, null, default, await reader.FetchAsync(pds, repo.Did, heldByRepo.GetValueOrDefault(repo.Did.Value) ?? [], budget, token));

        // The reference PDS answers the page after the last with an empty page and no cursor; an empty page ends it too.
        if (page.Repos.Count + page.InvalidEntries == 0 || page.Cursor is null)
        {
            return null;
        }

        batcher.Pds = batcher.Pds with { Trail = batcher.Pds.Trail.Next(page.Cursor, out var cycle) };
        return cycle ? throw new ScanLimitReachedException("its listRepos cursors came round again (a cycle)") : page.Cursor;
    }

    /// <summary>
    /// A DID sync's one repo, and its revision recorded when the read was complete: in verified mode the signed commit's,
    /// read with the repo; in listing mode one <c>getLatestCommit</c> first (a revision from before the read: a repo that
    /// changes meanwhile is read again by the next freshness scan, never missed by it).
    /// </summary>
    private async Task SyncOneRepoAsync(ScanBatcher batcher, Uri pds, Did did, CancellationToken cancellationToken)
    {
        LatestCommit? commit = null;
        if (sync.Value.Mode == SyncMode.Listing)
        {
            try
            {
                batcher.Spend();
                commit = await xrpc.GetLatestCommitAsync(pds, did, cancellationToken);
            }
            catch (XrpcException ex) when (RepoReader.IsAboutTheRepo(ex))
            {
                logger.LogInformation("No revision for {Did} on {Pds} ({Kind}): the repo is read, its revision not recorded", did, pds, ex.Kind);
            }
        }

        var single = did.Value;
        var read = await reader.ReadAsync(batcher, pds, did, (await held.GetAsync([single], cancellationToken)).GetValueOrDefault(single) ?? [], SweepCollection.ScanMissing, cancellationToken);
        if (read is { Outcome: RepoRead.Complete, Rev: { } signed })
        {
            await batcher.RepoSyncedAsync(single, ServiceOrigin.Normalize(pds), signed, read.CommitCid, unchanged: false, verified: true);
        }
        else if (read.Outcome == RepoRead.Complete && commit is not null)
        {
            await batcher.RepoSyncedAsync(single, ServiceOrigin.Normalize(pds), commit.Rev, commit.Cid.Value, unchanged: false);
        }
        else if (read.Outcome == RepoRead.Unverified)
        {
            await registry.ChargeAsync(pds, $"a repo did not verify: {batcher.Pds.Unverified}", cancellationToken);
        }
    }

    /// <summary>The lane moves on: the next PDS's first page, or the lane's end.</summary>
    private async Task NextPdsAsync(ScanBatcher batcher, ConsumeContext<ScanPdsChunk> context, PdsOutcome outcome)
    {
        var chunk = context.Message;
        await batcher.FlushAsync();
        var totals = outcome switch
        {
            PdsOutcome.Scanned => batcher.Totals with { PdsesScanned = batcher.Totals.PdsesScanned + 1 },
            PdsOutcome.Failed => batcher.Totals with { PdsesFailed = batcher.Totals.PdsesFailed + 1 },
            PdsOutcome.Limited => batcher.Totals with { PdsesLimited = batcher.Totals.PdsesLimited + 1 },
            _ => batcher.Totals,
        };
        var rest = chunk.Did is null ? chunk.Pdses.Skip(1).ToList() : [];
        if (!await AdvanceAsync(context))
        {
            return;
        }

        await context.Publish(new ScanLaneProgressed(chunk.OperationId, chunk.Lane, chunk.Lanes, totals, Finished: rest.Count == 0));
        if (rest.Count > 0)
        {
            await context.Publish(chunk with { Pdses = rest, Cursor = null, Sequence = chunk.Sequence + 1, Totals = totals, Pds = PdsProgress.Zero });
        }
    }

    private async Task ReleaseAsync(ScanPdsChunk chunk, string owner)
    {
        if (chunk.Did is null)
        {
            await registry.ReleaseAsync(chunk.Pdses, owner);
        }
    }

    /// <summary>A listed repo as fetched ahead: confirmed unchanged (and its host check), fetched whole, or to be read as applied.</summary>
    private readonly record struct RepoAhead(RepoEntry Repo, VerifiedCommit? Unchanged, HostCheck Host, FetchedRepo? Fetched);

    private enum PdsOutcome
    {
        Scanned,
        Failed,
        Limited,
        Skipped,
    }
}

/// <summary>
/// Transient failures (the database, the broker) are retried; PDS failures never reach here (they are the PDS's
/// outcome). Record batches leave as soon as they are full — no outbox holds them until the chunk ends — so the
/// IndexWorker indexes while the scanner reads: a retried chunk sends the same batch ids again and the IndexWorker's
/// ledger drops the repeats. The lane's next chunk is the chunk's last publish, after the chain moved on, so a retry
/// or a duplicate cannot fork the lane.
/// </summary>
public sealed class ScanPdsChunkConsumerDefinition : ConsumerDefinition<ScanPdsChunkConsumer>
{
    public ScanPdsChunkConsumerDefinition() => ConcurrentMessageLimit = 8;

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<ScanPdsChunkConsumer> consumerConfigurator, IRegistrationContext context)
    {
        endpointConfigurator.UseMessageRetry(r =>
        {
            r.Intervals(500, 2000, 5000, 10000);
            r.Ignore<InvalidIdentifierException>();
        });
    }
}
