using System.Security.Cryptography;
using System.Text;
using Chive.AtProto.Identifiers;
using Chive.AtProto.Identity;
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
/// One unit of a scan lane: one <c>listRepos</c> page of the lane's current PDS (or, for a DID sync, the one repo).
/// Per active repo: one <c>describeRepo</c>; then every page of every <c>pub.chive.*</c> collection it names or we hold
/// for it, sent to the IndexWorker in batches, and after each complete, clean listing a sweep of what we hold there
/// that the PDS no longer has. A repo without Chive data costs one request.
/// <para>
/// Nothing a PDS says is believed beyond what it may speak for: a repo's records are taken only when the repo's DID
/// document names this PDS (else the repo is counted as not hosted here and nothing of it is written or swept), only
/// records whose URI is of the repo and collection asked for are kept, and a collection is swept only after its own
/// listing came back complete and clean — never because <c>describeRepo</c> stopped naming it. Every listing ends: a
/// cursor that comes round again, or more requests, repos or records than the per-PDS caps, stops the PDS as limited.
/// </para>
/// A PDS that fails (unreachable, timeout, 5xx after retries) is recorded as a failure in the registry — never as
/// "no records" — and the lane goes on with its next PDS; an answer about one repo that is unusable skips that repo
/// only. A cancel trips the token: the request in flight ends, claims are given back, nothing more is sent.
/// </summary>
public sealed class ScanPdsChunkConsumer(
    XrpcClient xrpc,
    DidResolver resolver,
    PdsRegistry registry,
    HeldCollections held,
    OperationGate gate,
    IOptions<PdsScanOptions> options,
    TimeProvider time,
    ILogger<ScanPdsChunkConsumer> logger) : OperationWorkConsumer<ScanPdsChunk>(gate)
{
    protected override Task DroppedAsync(ConsumeContext<ScanPdsChunk> context, string status) =>
        ReleaseAsync(context.Message, context.Message.OperationId.ToString("D"));

    protected override async Task ConsumeAsync(ConsumeContext<ScanPdsChunk> context, OperationUnit work)
    {
        var chunk = context.Message;
        var owner = chunk.OperationId.ToString("D");
        var pds = new Uri(chunk.Pdses[0]);
        var unit = new ChunkUnit(chunk, context, options.Value);
        string? next = null;
        try
        {
            if (chunk.Did is { } single)
            {
                var did = Did.Parse(single);
                await ScanRepoAsync(unit, pds, did, (await held.GetAsync([single], work.Token)).GetValueOrDefault(single) ?? [], work.Token);
            }
            else if (!await registry.ClaimAsync(pds, owner, work.Token))
            {
                logger.LogWarning("Operation {OperationId} lost its claim on {Pds} (its lease lapsed and another scan took it): skipping it", chunk.OperationId, pds);
                await NextPdsAsync(unit, context, PdsOutcome.Skipped);
                return;
            }
            else
            {
                next = await ScanReposPageAsync(unit, pds, work.Token);
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
            unit.Limit = limit.Message;
        }
        catch (XrpcException ex) when (!work.IsCancelled)
        {
            await unit.FlushAsync();
            if (chunk.Did is not null)
            {
                if (await AdvanceAsync(context))
                {
                    await context.Publish(new BackfillWorkFailed(chunk.OperationId, $"the PDS {pds} of {chunk.Did} failed: {ex.Message}"));
                }

                return;
            }

            logger.LogWarning("PDS {Pds} failed during operation {OperationId}: {Error}", pds, chunk.OperationId, ex.Message);
            await registry.FailAsync(pds, owner, ex.Message, context.CancellationToken);
            await NextPdsAsync(unit, context, PdsOutcome.Failed);
            return;
        }

        if (work.IsCancelled)
        {
            await ReleaseAsync(chunk, owner);
            return;
        }

        await unit.FlushAsync();
        if (unit.Limit is { } reason)
        {
            logger.LogWarning("Scan of {Pds} by operation {OperationId} stopped: {Reason}", pds, chunk.OperationId, reason);
            if (chunk.Did is null)
            {
                await registry.LimitAsync(pds, owner, (int)Math.Min(int.MaxValue, unit.Pds.Records), reason, context.CancellationToken);
            }

            await NextPdsAsync(unit, context, PdsOutcome.Limited);
            return;
        }

        if (next is not null)
        {
            if (!await AdvanceAsync(context))
            {
                return;
            }

            await context.Publish(new ScanLaneProgressed(chunk.OperationId, chunk.Lane, chunk.Lanes, unit.Totals, Finished: false));
            await context.Publish(chunk with { Cursor = next, Sequence = chunk.Sequence + 1, Totals = unit.Totals, Pds = unit.Pds });
            return;
        }

        if (chunk.Did is null && !await registry.CompleteAsync(pds, owner, (int)Math.Min(int.MaxValue, unit.Pds.Records), context.CancellationToken))
        {
            logger.LogInformation("Operation {OperationId} no longer holds {Pds}: its outcome was recorded before", chunk.OperationId, pds);
        }

        await NextPdsAsync(unit, context, PdsOutcome.Scanned);
    }

    /// <summary>Scans one <c>listRepos</c> page; returns the cursor of the next page, or null after the last.</summary>
    private async Task<string?> ScanReposPageAsync(ChunkUnit unit, Uri pds, CancellationToken cancellationToken)
    {
        unit.Spend();
        var page = await xrpc.ListReposPageAsync(pds, unit.Chunk.Cursor, options.Value.ReposPerChunk, cancellationToken);
        var active = page.Repos.Where(r => r.Active).Select(r => r.Did).Distinct().ToList();
        unit.CountRepos(page.Repos.Count);
        unit.Totals = unit.Totals with
        {
            ReposKnown = unit.Totals.ReposKnown + page.Repos.Count,
            ReposSkipped = unit.Totals.ReposSkipped + (page.Repos.Count - active.Count),
        };
        var heldByRepo = await held.GetAsync(active.Select(d => d.Value).ToList(), cancellationToken);
        foreach (var did in active)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await ScanRepoAsync(unit, pds, did, heldByRepo.GetValueOrDefault(did.Value) ?? [], cancellationToken);
        }

        // The reference PDS answers the page after the last with an empty page and no cursor; an empty page ends it too.
        if (page.Repos.Count + page.InvalidEntries == 0 || page.Cursor is null)
        {
            return null;
        }

        unit.Pds = unit.Pds with { Trail = unit.Pds.Trail.Next(page.Cursor, out var cycle) };
        return cycle ? throw new ScanLimitReachedException("its listRepos cursors came round again (a cycle)") : page.Cursor;
    }

    private async Task ScanRepoAsync(ChunkUnit unit, Uri pds, Did did, HashSet<string> heldHere, CancellationToken cancellationToken)
    {
        List<string> collections;
        try
        {
            unit.Spend();
            var description = await xrpc.DescribeRepoAsync(pds, did, cancellationToken);
            // What the repo names, and what we hold for it that it no longer names: that one is listed too, and swept
            // only if its own listing comes back empty — describeRepo alone never deletes anything.
            collections = description.Collections.Select(c => c.Value).Where(ChiveCollections.IsChive)
                .Union(heldHere).Distinct().Order(StringComparer.Ordinal).ToList();
        }
        catch (XrpcException ex) when (IsAboutTheRepo(ex))
        {
            SkipRepo(unit, pds, did, ex);
            return;
        }

        if (collections.Count == 0)
        {
            unit.Totals = unit.Totals with { ReposDone = unit.Totals.ReposDone + 1 };
            return;
        }

        if (!await IsHostedHereAsync(unit, pds, did, cancellationToken))
        {
            return;
        }

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
                    unit.Spend();
                    var page = await xrpc.ListRecordsPageAsync(pds, did, Nsid.Parse(collection), cursor, 100, cancellationToken);
                    foreach (var record in page.Records)
                    {
                        if (present.Add(record.Uri.RecordKey.Value))
                        {
                            await unit.AddAsync(record);
                        }
                        else
                        {
                            clean = false; // the same record listed twice: the listing is not one we trust to sweep by
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
                SkipRepo(unit, pds, did, ex);
                return;
            }

            // Every complete, clean listing is swept, whether or not we held anything there before: what a chunk sends
            // must not depend on the index's state, so a chunk run again after a crash sends exactly the same batches.
            if (clean)
            {
                await unit.SweepAsync(did.Value, collection, present.ToList(), listedFrom);
            }
        }

        unit.Totals = unit.Totals with { ReposDone = unit.Totals.ReposDone + 1 };
    }

    /// <summary>
    /// Provenance: the repo's own DID document must name this PDS. A PDS listing someone else's DID — by mistake or
    /// to write into their records — gets nothing of that repo indexed or swept.
    /// </summary>
    private async Task<bool> IsHostedHereAsync(ChunkUnit unit, Uri pds, Did did, CancellationToken cancellationToken)
    {
        ResolvedIdentity identity;
        try
        {
            identity = await resolver.ResolveAsync(did, cancellationToken);
        }
        catch (DidResolutionException ex)
        {
            logger.LogWarning("Skipping {Did} on {Pds}: its DID document could not be resolved ({Error})", did, pds, ex.Message);
            unit.Totals = unit.Totals with { ReposSkipped = unit.Totals.ReposSkipped + 1 };
            return false;
        }

        if (ServiceOrigin.TryNormalize(identity.PdsEndpoint, out var home) && home == ServiceOrigin.Normalize(pds))
        {
            return true;
        }

        logger.LogWarning("{Pds} lists {Did}, whose DID document names {Home} as its PDS: nothing of it is taken from {Pds}",
            pds, did, identity.PdsEndpoint, pds);
        unit.Totals = unit.Totals with { ReposNotHosted = unit.Totals.ReposNotHosted + 1 };
        return false;
    }

    /// <summary>
    /// An answer about one repo we cannot use — the repo is gone or not served, or the PDS's answer for it is malformed,
    /// too large or refused — skips that repo, and sweeps nothing of it. Failures of the host itself (timeouts, 5xx,
    /// unreachable, an open circuit, rate limits) are the PDS's and end its scan.
    /// </summary>
    private static bool IsAboutTheRepo(XrpcException ex) => !ex.IsHostFailure && ex.Kind is not XrpcErrorKind.Refused;

    private void SkipRepo(ChunkUnit unit, Uri pds, Did did, XrpcException ex)
    {
        logger.LogInformation("Skipping {Did} on {Pds}: {Kind} ({Error}); nothing of it is swept", did, pds, ex.Kind, ex.ServerMessage);
        unit.Totals = unit.Totals with { ReposSkipped = unit.Totals.ReposSkipped + 1 };
    }

    /// <summary>The lane moves on: the next PDS's first page, or the lane's end.</summary>
    private async Task NextPdsAsync(ChunkUnit unit, ConsumeContext<ScanPdsChunk> context, PdsOutcome outcome)
    {
        var chunk = unit.Chunk;
        await unit.FlushAsync();
        var totals = outcome switch
        {
            PdsOutcome.Scanned => unit.Totals with { PdsesScanned = unit.Totals.PdsesScanned + 1 },
            PdsOutcome.Failed => unit.Totals with { PdsesFailed = unit.Totals.PdsesFailed + 1 },
            PdsOutcome.Limited => unit.Totals with { PdsesLimited = unit.Totals.PdsesLimited + 1 },
            _ => unit.Totals,
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

    private enum PdsOutcome
    {
        Scanned,
        Failed,
        Limited,
        Skipped,
    }

    /// <summary>A cap or a cursor cycle stopped the scan of the current PDS; the message says which.</summary>
    private sealed class ScanLimitReachedException(string message) : Exception(message);

    /// <summary>What one chunk accumulates: its batch buffer, the lane's totals, and what the lane has read of its PDS.</summary>
    private sealed class ChunkUnit(ScanPdsChunk chunk, ConsumeContext context, PdsScanOptions settings)
    {
        private readonly List<FetchedRecord> _buffer = [];
        private long _bufferBytes;
        private int _batches;

        public ScanPdsChunk Chunk => chunk;

        public ScanTotals Totals { get; set; } = chunk.Totals;

        public PdsProgress Pds { get; set; } = chunk.Pds;

        /// <summary>Why the scan of this PDS stopped early (a cap or a cycle), or null.</summary>
        public string? Limit { get; set; }

        /// <summary>One more request to this PDS, within the cap.</summary>
        public void Spend()
        {
            if (Pds.Pages >= settings.MaxPagesPerPds)
            {
                throw new ScanLimitReachedException($"more than {settings.MaxPagesPerPds} requests to it in one scan (PdsScan:MaxPagesPerPds)");
            }

            Pds = Pds with { Pages = Pds.Pages + 1 };
        }

        public void CountRepos(int repos)
        {
            Pds = Pds with { Repos = Pds.Repos + repos };
            if (Pds.Repos > settings.MaxReposPerPds)
            {
                throw new ScanLimitReachedException($"more than {settings.MaxReposPerPds} repos in one scan (PdsScan:MaxReposPerPds)");
            }
        }

        public async Task AddAsync(RecordEntry record)
        {
            var raw = record.Value.GetRawText();
            var bytes = Encoding.UTF8.GetByteCount(raw);
            var fetched = bytes > settings.MaxRecordBytes
                ? new FetchedRecord(record.Uri.Value, record.Cid.Value, "", $"the record is {bytes} bytes; the cap is {settings.MaxRecordBytes} (PdsScan:MaxRecordBytes)")
                : new FetchedRecord(record.Uri.Value, record.Cid.Value, raw);
            var size = fetched.Value.Length + fetched.Uri.Length + 128;
            if (_buffer.Count > 0 && _bufferBytes + size > settings.MaxBatchBytes)
            {
                await FlushAsync();
            }

            _buffer.Add(fetched);
            _bufferBytes += size;
            Pds = Pds with { Records = Pds.Records + 1 };
            Totals = Totals with { RecordsListed = Totals.RecordsListed + 1 };
            if (_buffer.Count >= settings.RecordsPerBatch)
            {
                await FlushAsync();
            }

            if (Pds.Records > settings.MaxRecordsPerPds)
            {
                throw new ScanLimitReachedException($"more than {settings.MaxRecordsPerPds} records in one scan (PdsScan:MaxRecordsPerPds)");
            }
        }

        public async Task FlushAsync()
        {
            if (_buffer.Count == 0)
            {
                return;
            }

            var id = BatchId("records", _buffer.Select(r => $"{r.Uri} {r.Cid}"));
            await context.Publish(new IndexRecords(chunk.OperationId, id, chunk.Pdses[0], _buffer.ToList()));
            _buffer.Clear();
            _bufferBytes = 0;
        }

        /// <summary>A sweep does not need to follow its listing's records: it never touches the keys it lists.</summary>
        public Task SweepAsync(string did, string collection, IReadOnlyList<string> present, DateTimeOffset listedFrom) =>
            context.Publish(new SweepCollection(
                chunk.OperationId, BatchId($"sweep {did} {collection}", present), did, collection, present, listedFrom));

        /// <summary>
        /// The batch's identity: the operation, the chunk (lane and sequence), the batch's place in the chunk, and what it
        /// holds. A chunk run again after a crash sends the same ids for the same records (the IndexWorker's ledger drops
        /// the repeats); the same records reached twice in one operation — a DID listed on two pages or by two PDSes —
        /// get different ids, so every batch sent is a batch the ledger counts; if the PDS changed in between, the ids
        /// differ and nothing is dropped.
        /// </summary>
        private Guid BatchId(string kind, IEnumerable<string> content)
        {
            Totals = Totals with { BatchesSent = Totals.BatchesSent + 1 };
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            hash.AppendData(Encoding.UTF8.GetBytes($"{chunk.OperationId:N}\n{chunk.Lane}\n{chunk.Sequence}\n{_batches++}\n{kind}\n"));
            foreach (var line in content)
            {
                hash.AppendData(Encoding.UTF8.GetBytes(line + "\n"));
            }

            return new Guid(hash.GetHashAndReset().AsSpan(0, 16));
        }
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
