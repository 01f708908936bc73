using System.Diagnostics;
using System.Runtime.ExceptionServices;
using Chive.AtProto.Identifiers;
using Chive.AtProto.Identity;
using Chive.AtProto.Net;
using Chive.AtProto.Repo;
using Chive.AtProto.Xrpc;
using Chive.Contracts.Operations;
using Chive.Contracts.PdsScan;
using Microsoft.Extensions.Options;

namespace Chive.ScanWorker.PdsScan;

/// <summary>
/// How the reading of one repo ended and, when it was read as a signed CAR, the commit read — its revision and CID, the
/// state the index now holds (recorded for the freshness scan in place of what a listing said before the read).
/// </summary>
public readonly record struct RepoReadResult(RepoRead Outcome, string? Rev = null, string? CommitCid = null)
{
    public static implicit operator RepoReadResult(RepoRead outcome) => new(outcome);
}

/// <summary>How the reading of one repo ended.</summary>
public enum RepoRead
{
    /// <summary>Every Chive collection listed completely and cleanly (and swept): the repo is exactly what we now hold.</summary>
    Complete,

    /// <summary>Read, but some listing was not clean (foreign or invalid entries, a record listed twice): nothing swept there.</summary>
    Partial,

    /// <summary>No Chive collection named, none held: nothing to read.</summary>
    Empty,

    /// <summary>The repo is unavailable, or the PDS's answers about it were unusable: skipped, nothing swept.</summary>
    Skipped,

    /// <summary>Its DID document names another PDS (or could not be resolved): nothing taken from this PDS.</summary>
    NotHosted,

    /// <summary>Its CAR did not verify (verified mode): nothing indexed or swept; the reason is in <see cref="PdsProgress.Unverified"/>.</summary>
    Unverified,
}

/// <summary>
/// Reads one repo from one PDS into a <see cref="ScanBatcher"/>: one <c>describeRepo</c>; then, if the repo's DID
/// document names this PDS, every page of every <c>pub.chive.*</c> collection it names or we hold for it, and after each
/// complete, clean listing a sweep of what we hold there that the PDS no longer has. A repo without Chive data costs one
/// request. Nothing a PDS says is believed beyond what it may speak for: records only under the URI of the repo and
/// collection asked for, sweeps only after the collection's own listing — never because <c>describeRepo</c> stopped
/// naming it. A cursor that comes round again throws <see cref="ScanLimitReachedException"/>; so do the caps.
/// Used by the PDS scan, the DID sync and the freshness scan.
/// </summary>
public sealed class RepoReader(XrpcClient xrpc, DidResolver resolver, IOptions<SyncOptions> sync, TimeProvider time, ILogger<RepoReader> logger)
{
    public async Task<RepoReadResult> ReadAsync(
        ScanBatcher batcher, Uri pds, Did did, IReadOnlySet<string> held, string deletionSource, CancellationToken cancellationToken)
    {
        if (sync.Value.Mode == SyncMode.Verified)
        {
            // The budget the caps leave now: a request the cap refuses is not sent (ApplyAsync's spend throws first).
            return await ApplyAsync(batcher, pds, did, await FetchAsync(pds, did, held, batcher.RequestBudget(), cancellationToken), deletionSource);
        }

        List<string> collections;
        try
        {
            batcher.Spend();
            collections = ChiveCollectionsOf(await xrpc.DescribeRepoAsync(pds, did, cancellationToken), held);
        }
        catch (XrpcException ex) when (IsAboutTheRepo(ex))
        {
            return Skip(batcher, pds, did, ex);
        }

        if (collections.Count == 0)
        {
            batcher.Totals = batcher.Totals with { ReposDone = batcher.Totals.ReposDone + 1 };
            return RepoRead.Empty;
        }

        if (!await IsHostedAsync(batcher, pds, did, cancellationToken))
        {
            return RepoRead.NotHosted;
        }

        await batcher.ReadingFromAsync(ServiceOrigin.Normalize(pds));
        var complete = true;
        foreach (var collection in collections)
        {
            var listedFrom = time.GetUtcNow();
            var present = new HashSet<string>(StringComparer.Ordinal);
            var clean = true;
            var trail = CursorTrail.Start;
            string? cursor = null;
            try
            {
                do
                {
                    batcher.Spend();
                    var page = await xrpc.ListRecordsPageAsync(pds, did, Nsid.Parse(collection), cursor, 100, cancellationToken);
                    foreach (var record in page.Records)
                    {
                        if (present.Add(record.Uri.RecordKey.Value))
                        {
                            await batcher.AddAsync(record);
                        }
                        else
                        {
                            clean = false; // the same record listed twice: not a listing we sweep by
                        }
                    }

                    clean &= page.IsClean;
                    if (page.ForeignEntries > 0)
                    {
                        logger.LogWarning("{Pds} listed {Count} records of another repo or collection when asked for {Did}/{Collection}: ignored",
                            pds, page.ForeignEntries, did, collection);
                    }

                    if (page.Entries == 0 || page.Cursor is null)
                    {
                        cursor = null;
                    }
                    else
                    {
                        trail = trail.Next(page.Cursor, out var cycle);
                        cursor = cycle ? throw new ScanLimitReachedException($"its listRecords cursors for {did}/{collection} came round again (a cycle)") : page.Cursor;
                    }
                }
                while (cursor is not null);
            }
            catch (XrpcException ex) when (IsAboutTheRepo(ex))
            {
                return Skip(batcher, pds, did, ex);
            }

            // Every complete, clean listing is swept, whether or not we held anything there before: what a unit sends must
            // not depend on the index's state, so a unit run again after a crash sends exactly the same batches.
            if (clean)
            {
                await batcher.SweepAsync(did.Value, collection, present.ToList(), listedFrom, deletionSource);
            }

            complete &= clean;
        }

        batcher.Totals = batcher.Totals with { ReposDone = batcher.Totals.ReposDone + 1 };
        return complete ? RepoRead.Complete : RepoRead.Partial;
    }

    /// <summary>
    /// Verified mode, the network half: one <c>describeRepo</c>; if it names a Chive collection (or we hold one), the DID
    /// document; if that names this PDS, the whole repo in one <c>getRepo</c>, read by <see cref="RepoCar"/> (block CIDs,
    /// the commit signed by the DID's key, the MST). Nothing reaches a batcher and nothing is counted here — what the
    /// requests found is kept, failures included, for <see cref="ApplyAsync"/> — so a unit can fetch the next repos while
    /// it applies this one and still send exactly what a one-at-a-time read sends. At most
    /// <paramref name="requestBudget"/> requests are sent (what the request cap leaves): one a read in turn would not
    /// have been allowed is not sent, and <see cref="ApplyAsync"/>'s spend for it throws before its answer is wanted.
    /// Only a cancel is thrown.
    /// </summary>
    public async Task<FetchedRepo> FetchAsync(Uri pds, Did did, IReadOnlySet<string> held, int requestBudget, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        if (requestBudget < 1)
        {
            return new FetchedRepo();
        }

        List<string> collections;
        try
        {
            collections = ChiveCollectionsOf(await xrpc.DescribeRepoAsync(pds, did, cancellationToken), held);
        }
        catch (XrpcException ex)
        {
            return new FetchedRepo { DescribeError = ex, Sent = 1 };
        }

        if (collections.Count == 0)
        {
            return new FetchedRepo { Sent = 1 };
        }

        var described = Stopwatch.GetTimestamp();
        var host = await CheckHostAsync(pds, did, cancellationToken);
        var fetched = new FetchedRepo { Collections = collections, Host = host, Sent = 1 };
        if (!host.Hosted)
        {
            return fetched;
        }

        if (requestBudget < 2)
        {
            return fetched;
        }

        var resolved = Stopwatch.GetTimestamp();
        fetched = fetched with { ListedFrom = time.GetUtcNow(), Sent = 2 };
        try
        {
            await using var car = await xrpc.GetRepoAsync(pds, did, cancellationToken);
            fetched = fetched with { Repo = await RepoCar.ReadAsync(car, did, resolver, ChiveCollections.Namespace + ".", cancellationToken) };
        }
        catch (XrpcException ex)
        {
            return fetched with { GetRepoError = ex };
        }
        catch (RepoVerificationException ex)
        {
            return fetched with { Unverified = ex };
        }

        return fetched with { Timings = (started, described, resolved, Stopwatch.GetTimestamp()) };
    }

    /// <summary>
    /// Verified mode, the batcher's half, in the order a one-at-a-time read takes: each request spent against the caps
    /// before what it found is used, a failure of the host thrown where its request was, the records of the Chive
    /// collections batched and each of those collections swept — a verified repo is complete and clean by construction.
    /// A CAR that does not verify indexes nothing and sweeps nothing; it is counted (<c>reposUnverified</c>) and logged
    /// with the reason, and the caller charges the PDS a failure.
    /// </summary>
    public async Task<RepoReadResult> ApplyAsync(ScanBatcher batcher, Uri pds, Did did, FetchedRepo fetched, string deletionSource)
    {
        var applying = Stopwatch.GetTimestamp();
        batcher.Spend();
        WasSent(fetched, 1);
        if (fetched.DescribeError is { } describeError)
        {
            return Fail(batcher, pds, did, describeError);
        }

        if (fetched.Host is not { } host)
        {
            batcher.Totals = batcher.Totals with { ReposDone = batcher.Totals.ReposDone + 1 };
            return RepoRead.Empty;
        }

        if (!IsHosted(batcher, pds, did, host))
        {
            return RepoRead.NotHosted;
        }

        await batcher.ReadingFromAsync(ServiceOrigin.Normalize(pds));
        batcher.Spend();
        WasSent(fetched, 2);
        if (fetched.GetRepoError is { } getRepoError)
        {
            return Fail(batcher, pds, did, getRepoError);
        }

        if (fetched.Unverified is { } unverified)
        {
            logger.LogWarning("{Did} on {Pds} did not verify: {Reason}; nothing of it is indexed or swept", did, pds, unverified.Message);
            batcher.Totals = batcher.Totals with { ReposUnverified = batcher.Totals.ReposUnverified + 1 };
            if (!unverified.ChargesPds)
            {
                return RepoRead.Skipped; // the DID document's fault, not the PDS's: counted, not charged
            }

            batcher.Pds = batcher.Pds with { Unverified = batcher.Pds.Unverified ?? $"{did.Value}: {unverified.Message}" };
            return RepoRead.Unverified;
        }

        var repo = fetched.Repo ?? throw new InvalidOperationException("a fetched repo without its records or the reason it has none");
        var byCollection = repo.Records.Where(r => ChiveCollections.IsChive(r.Collection)).ToLookup(r => r.Collection, StringComparer.Ordinal);
        foreach (var collection in fetched.Collections.Union(byCollection.Select(g => g.Key)).Distinct().Order(StringComparer.Ordinal))
        {
            var present = new List<string>();
            foreach (var record in byCollection[collection])
            {
                var uri = $"at://{did.Value}/{record.Collection}/{record.Rkey}";
                // A key the owner signed but no AT-URI can name, or a block the data model cannot hold: one rejected record.
                // Only a key that names a record counts as present: the CAR's keys are the owner's to write, and one that
                // is no record key (a NUL, a newline) must not reach the sweep's statement.
                var named = AtUri.TryParse(uri, out var parsed, out var invalid);
                if (named)
                {
                    present.Add(record.Rkey);
                }

                if (record.Json is null)
                {
                    await batcher.AddRejectedAsync(uri, record.Cid, record.Problem ?? "not a record");
                }
                else if (!named)
                {
                    await batcher.AddRejectedAsync(uri, record.Cid, $"invalid AT-URI: {invalid}");
                }
                else
                {
                    await batcher.AddAsync(parsed!, record.Cid, record.Json);
                }
            }

            // A collection that is no NSID holds nothing we index (every stored record's collection is one): no sweep.
            if (Nsid.TryParse(collection, out _))
            {
                await batcher.SweepAsync(did.Value, collection, present, fetched.ListedFrom, deletionSource);
            }
        }

        batcher.Totals = batcher.Totals with { ReposDone = batcher.Totals.ReposDone + 1 };
        // Where a repo's time goes (scripts/bench.sh pds-scan --breakdown reads these lines); the fetch may have run while
        // earlier repos were applied.
        var at = fetched.Timings;
        logger.LogDebug("Repo read {Did}: describeRepo {Describe:F1} ms, DID document {Resolve:F1} ms, getRepo and verify {Fetch:F1} ms, batches sent {Apply:F1} ms",
            did, Stopwatch.GetElapsedTime(at.Started, at.Described).TotalMilliseconds, Stopwatch.GetElapsedTime(at.Described, at.Resolved).TotalMilliseconds,
            Stopwatch.GetElapsedTime(at.Resolved, at.Fetched).TotalMilliseconds, Stopwatch.GetElapsedTime(applying).TotalMilliseconds);
        // A revision that is not a TID is not recorded (as in listing mode): the next freshness scan reads the repo again.
        return LatestCommit.IsRev(repo.Rev) ? new RepoReadResult(RepoRead.Complete, repo.Rev, repo.CommitCid) : RepoRead.Complete;
    }

    /// <summary>
    /// Provenance: the repo's own DID document must name this PDS. A PDS listing someone else's DID — by mistake or to
    /// write into their records — gets nothing of that repo indexed or swept.
    /// </summary>
    public async Task<bool> IsHostedAsync(ScanBatcher batcher, Uri pds, Did did, CancellationToken cancellationToken) =>
        IsHosted(batcher, pds, did, await CheckHostAsync(pds, did, cancellationToken));

    /// <summary>What the repo's DID document says about this PDS, found without a batcher (counted by <see cref="IsHosted"/>).</summary>
    public async Task<HostCheck> CheckHostAsync(Uri pds, Did did, CancellationToken cancellationToken)
    {
        try
        {
            var identity = await resolver.ResolveAsync(did, cancellationToken);
            return ServiceOrigin.TryNormalize(identity.PdsEndpoint, out var home) && home == ServiceOrigin.Normalize(pds)
                ? new HostCheck(Hosted: true)
                : new HostCheck(Hosted: false, Home: identity.PdsEndpoint.ToString());
        }
        catch (DidResolutionException ex)
        {
            return new HostCheck(Hosted: false, Unresolved: ex.Message);
        }
    }

    /// <summary>A host check counted: a repo not hosted here is logged, and counted skipped (unresolved) or not hosted.</summary>
    public bool IsHosted(ScanBatcher batcher, Uri pds, Did did, HostCheck check)
    {
        if (check.Hosted)
        {
            return true;
        }

        if (check.Unresolved is { } error)
        {
            logger.LogWarning("Skipping {Did} on {Pds}: its DID document could not be resolved ({Error})", did, pds, error);
            batcher.Totals = batcher.Totals with { ReposSkipped = batcher.Totals.ReposSkipped + 1 };
            return false;
        }

        logger.LogWarning("{Pds} lists {Did}, whose DID document names {Home} as its PDS: nothing of it is taken from {Pds}",
            pds, did, check.Home, pds);
        batcher.Totals = batcher.Totals with { ReposNotHosted = batcher.Totals.ReposNotHosted + 1 };
        return false;
    }

    /// <summary>
    /// The <paramref name="request"/>th request, its spend allowed, must have been sent: if not, the budget given to
    /// <see cref="FetchAsync"/> was smaller than what the cap left when the repo was applied — a bug of the caller's,
    /// never the PDS's doing.
    /// </summary>
    private static void WasSent(FetchedRepo fetched, int request)
    {
        if (fetched.Sent < request)
        {
            throw new InvalidOperationException("a repo fetched with a smaller request budget than the cap left when it was applied");
        }
    }

    private static List<string> ChiveCollectionsOf(RepoDescription description, IReadOnlySet<string> held) =>
        description.Collections.Select(c => c.Value).Where(ChiveCollections.IsChive).Union(held).Distinct().Order(StringComparer.Ordinal).ToList();

    /// <summary>A request's failure, where its request was: about the repo, the repo is skipped; the host's, thrown.</summary>
    private RepoRead Fail(ScanBatcher batcher, Uri pds, Did did, XrpcException ex)
    {
        if (!IsAboutTheRepo(ex))
        {
            ExceptionDispatchInfo.Throw(ex);
        }

        return Skip(batcher, pds, did, ex);
    }

    /// <summary>
    /// An answer about one repo we cannot use — the repo is gone or not served, or the PDS's answer for it is malformed,
    /// too large or refused — skips that repo, and sweeps nothing of it. Failures of the host itself (timeouts, 5xx,
    /// unreachable, an open circuit, rate limits, the SSRF guard) are the PDS's and end its reading.
    /// </summary>
    public static bool IsAboutTheRepo(XrpcException ex) => !ex.IsHostFailure && ex.Kind is not XrpcErrorKind.Refused;

    private RepoRead Skip(ScanBatcher batcher, Uri pds, Did did, XrpcException ex)
    {
        logger.LogInformation("Skipping {Did} on {Pds}: {Kind} ({Error}); nothing of it is swept", did, pds, ex.Kind, ex.ServerMessage);
        batcher.Totals = batcher.Totals with { ReposSkipped = batcher.Totals.ReposSkipped + 1 };
        return RepoRead.Skipped;
    }
}
