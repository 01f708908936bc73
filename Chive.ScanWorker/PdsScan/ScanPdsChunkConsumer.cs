using System.Security.Cryptography;
using System.Text;
using Chive.AtProto.Identifiers;
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
/// Per active repo: one <c>describeRepo</c>; then every page of every <c>pub.chive.*</c> collection it names, sent to
/// the IndexWorker in batches; after each complete listing, a sweep of what we hold there that the PDS no longer has
/// (also for collections we hold that the repo no longer names). A repo without Chive data costs one request.
/// A PDS that fails (unreachable, timeout, 5xx after retries) is recorded as a failure in the registry — never as
/// "no records" — and the lane goes on with its next PDS. A cancel trips the token: the request in flight ends,
/// claims are given back, nothing more is sent.
/// </summary>
public sealed class ScanPdsChunkConsumer(
    XrpcClient xrpc,
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
        var unit = new ChunkUnit(chunk, context, options.Value.RecordsPerBatch);
        string? next = null;
        try
        {
            if (chunk.Did is { } single)
            {
                await ScanRepoAsync(unit, pds, Did.Parse(single), await held.GetAsync([single], work.Token), work.Token);
            }
            else if (!await registry.ClaimAsync(pds, owner, work.Token))
            {
                logger.LogWarning("Operation {OperationId} lost its claim on {Pds} (its lease lapsed and another scan took it): skipping it", chunk.OperationId, pds);
                await NextPdsAsync(unit, completed: false);
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
        catch (XrpcException ex) when (!work.IsCancelled)
        {
            await unit.FlushAsync();
            if (chunk.Did is not null)
            {
                await context.Publish(new BackfillWorkFailed(chunk.OperationId, $"the PDS {pds} of {chunk.Did} failed: {ex.Message}"));
                return;
            }

            logger.LogWarning("PDS {Pds} failed during operation {OperationId}: {Error}", pds, chunk.OperationId, ex.Message);
            await registry.FailAsync(pds, owner, ex.Message, context.CancellationToken);
            unit.Totals = unit.Totals with { PdsesFailed = unit.Totals.PdsesFailed + 1 };
            await NextPdsAsync(unit, completed: false);
            return;
        }

        if (work.IsCancelled)
        {
            await ReleaseAsync(chunk, owner);
            return;
        }

        await unit.FlushAsync();
        if (next is not null)
        {
            await context.Publish(new ScanLaneProgressed(chunk.OperationId, chunk.Lane, chunk.Lanes, unit.Totals, Finished: false));
            await context.Publish(chunk with { Cursor = next, Sequence = chunk.Sequence + 1, Totals = unit.Totals, PdsRecords = unit.PdsRecords });
            return;
        }

        if (chunk.Did is null)
        {
            await registry.CompleteAsync(pds, owner, (int)Math.Min(int.MaxValue, unit.PdsRecords), context.CancellationToken);
        }

        await NextPdsAsync(unit, completed: true);
    }

    /// <summary>Scans one <c>listRepos</c> page; returns the cursor of the next page, or null after the last.</summary>
    private async Task<string?> ScanReposPageAsync(ChunkUnit unit, Uri pds, CancellationToken cancellationToken)
    {
        var page = await xrpc.ListReposPageAsync(pds, unit.Chunk.Cursor, options.Value.ReposPerChunk, cancellationToken);
        var active = page.Repos.Where(r => r.Active).Select(r => r.Did).ToList();
        unit.Totals = unit.Totals with
        {
            ReposKnown = unit.Totals.ReposKnown + page.Repos.Count,
            ReposSkipped = unit.Totals.ReposSkipped + (page.Repos.Count - active.Count),
        };
        var heldByRepo = await held.GetAsync(active.Select(d => d.Value).ToList(), cancellationToken);
        foreach (var did in active)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await ScanRepoAsync(unit, pds, did, heldByRepo, cancellationToken);
        }

        // The reference PDS answers the page after the last with an empty page and no cursor; an empty page ends it too.
        return page.Repos.Count + page.InvalidEntries == 0 || page.Cursor == unit.Chunk.Cursor ? null : page.Cursor;
    }

    private async Task ScanRepoAsync(
        ChunkUnit unit, Uri pds, Did did, IReadOnlyDictionary<string, HashSet<string>> heldByRepo, CancellationToken cancellationToken)
    {
        RepoDescription description;
        try
        {
            description = await xrpc.DescribeRepoAsync(pds, did, cancellationToken);
        }
        catch (XrpcException ex) when (ex.IsRepoUnavailable)
        {
            logger.LogInformation("Skipping {Did} on {Pds}: {Kind}", did, pds, ex.Kind);
            unit.Totals = unit.Totals with { ReposSkipped = unit.Totals.ReposSkipped + 1 };
            return;
        }

        var collections = description.Collections.Select(c => c.Value).Where(ChiveCollections.IsChive).Distinct().Order(StringComparer.Ordinal).ToList();
        var heldHere = heldByRepo.GetValueOrDefault(did.Value) ?? [];
        foreach (var collection in collections)
        {
            var listedFrom = time.GetUtcNow();
            var present = new List<string>();
            var clean = true;
            string? cursor = null;
            try
            {
                do
                {
                    var page = await xrpc.ListRecordsPageAsync(pds, did, Nsid.Parse(collection), cursor, 100, cancellationToken);
                    foreach (var record in page.Records)
                    {
                        present.Add(record.Uri.RecordKey.Value);
                        await unit.AddAsync(new FetchedRecord(record.Uri.Value, record.Cid.Value, record.Value.GetRawText()));
                    }

                    clean &= page.InvalidEntries == 0;
                    cursor = page.Records.Count + page.InvalidEntries == 0 || page.Cursor == cursor ? null : page.Cursor;
                }
                while (cursor is not null);
            }
            catch (XrpcException ex) when (ex.IsRepoUnavailable)
            {
                logger.LogInformation("{Did} on {Pds} became unavailable while listing {Collection}: {Kind}; nothing of it is swept", did, pds, collection, ex.Kind);
                unit.Totals = unit.Totals with { ReposSkipped = unit.Totals.ReposSkipped + 1 };
                return;
            }

            // Every complete listing is swept, whether or not we held anything there before: what a chunk sends must not
            // depend on the index's state, so a chunk run again after a crash sends exactly the same batches.
            if (clean)
            {
                await unit.SweepAsync(did.Value, collection, present, listedFrom);
            }
        }

        // Collections we hold that the repo no longer names: the whole collection is gone.
        foreach (var collection in heldHere.Except(collections).Order(StringComparer.Ordinal))
        {
            await unit.SweepAsync(did.Value, collection, [], time.GetUtcNow());
        }

        unit.Totals = unit.Totals with { ReposDone = unit.Totals.ReposDone + 1 };
    }

    /// <summary>The lane moves on: the next PDS's first page, or the lane's end.</summary>
    private static async Task NextPdsAsync(ChunkUnit unit, bool completed)
    {
        var chunk = unit.Chunk;
        await unit.FlushAsync();
        var totals = completed ? unit.Totals with { PdsesScanned = unit.Totals.PdsesScanned + 1 } : unit.Totals;
        var rest = chunk.Did is null ? chunk.Pdses.Skip(1).ToList() : [];
        await unit.Context.Publish(new ScanLaneProgressed(chunk.OperationId, chunk.Lane, chunk.Lanes, totals, Finished: rest.Count == 0));
        if (rest.Count > 0)
        {
            await unit.Context.Publish(chunk with { Pdses = rest, Cursor = null, Sequence = chunk.Sequence + 1, Totals = totals, PdsRecords = 0 });
        }
    }

    private async Task ReleaseAsync(ScanPdsChunk chunk, string owner)
    {
        if (chunk.Did is null)
        {
            await registry.ReleaseAsync(chunk.Pdses, owner);
        }
    }

    /// <summary>What one chunk accumulates: its batch buffer and the lane's totals.</summary>
    private sealed class ChunkUnit(ScanPdsChunk chunk, ConsumeContext context, int batchSize)
    {
        private readonly List<FetchedRecord> _buffer = [];

        public ScanPdsChunk Chunk => chunk;

        public ConsumeContext Context => context;

        public ScanTotals Totals { get; set; } = chunk.Totals;

        public long PdsRecords { get; private set; } = chunk.PdsRecords;

        public async Task AddAsync(FetchedRecord record)
        {
            _buffer.Add(record);
            PdsRecords++;
            Totals = Totals with { RecordsListed = Totals.RecordsListed + 1 };
            if (_buffer.Count >= batchSize)
            {
                await FlushAsync();
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
        }

        /// <summary>A sweep does not need to follow its listing's records: it never touches the keys it lists.</summary>
        public Task SweepAsync(string did, string collection, IReadOnlyList<string> present, DateTimeOffset listedFrom) =>
            context.Publish(new SweepCollection(
                chunk.OperationId, BatchId($"sweep {did} {collection}", present), did, collection, present, listedFrom));

        /// <summary>
        /// Content-addressed: the operation and what the batch holds. A chunk run again sends the same ids for the same
        /// records (the IndexWorker's ledger drops the repeats); if the PDS changed in between, the ids differ and
        /// nothing is dropped.
        /// </summary>
        private Guid BatchId(string kind, IEnumerable<string> content)
        {
            Totals = Totals with { BatchesSent = Totals.BatchesSent + 1 };
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            hash.AppendData(Encoding.UTF8.GetBytes($"{chunk.OperationId:N}\n{kind}\n"));
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
/// ledger drops the repeats. The lane's next chunk is the chunk's last publish, so a retry cannot fork the lane.
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
