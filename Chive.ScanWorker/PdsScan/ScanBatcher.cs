using System.Security.Cryptography;
using System.Text;
using Chive.AtProto.Identifiers;
using Chive.AtProto.Xrpc;
using Chive.Contracts.Indexing;
using Chive.Contracts.PdsScan;
using MassTransit;

namespace Chive.ScanWorker.PdsScan;

/// <summary>A cap or a cursor cycle stopped the reading of the current PDS; the message says which.</summary>
public sealed class ScanLimitReachedException(string message) : Exception(message);

/// <summary>
/// What one unit of a scan (a PDS scan's lane chunk, a freshness scan's chunk) accumulates and sends to the IndexWorker:
/// record batches (full at <see cref="PdsScanOptions.RecordsPerBatch"/> records or <see cref="PdsScanOptions.MaxBatchBytes"/>,
/// carrying the sweeps of the collections listed since the last), repo revisions and removals — each a ledger batch
/// whose id never collides and repeats exactly when the unit runs again — and the running totals, and what has been
/// read of the current PDS against the per-PDS caps.
/// <para>
/// A publish waits for the broker's confirmation, a few milliseconds on a busy machine, several times per repo: the unit
/// reads on meanwhile (the next repo's requests overlap the last repo's confirmations), with at most
/// <see cref="PublishesInFlight"/> unconfirmed (memory: as many batches). <see cref="FlushAsync"/> waits for all of them,
/// so a unit never ends, nor reports its totals, before the broker holds everything it sent, and a publish that failed
/// fails the unit (it runs again; the ledger drops what had arrived). Their order is not kept, and need not be — they go
/// to different queues, consumed concurrently — with one exception: a repo's <see cref="Contracts.Indexing.RepoSynced"/>
/// is published only once the broker has confirmed every batch it names (see <see cref="SendAsync"/>).
/// </para>
/// </summary>
public sealed class ScanBatcher(
    Guid operationId, int lane, int sequence, ConsumeContext context, PdsScanOptions settings, ScanTotals totals, PdsProgress pds, ILogger logger)
    : IAsyncDisposable
{
    /// <summary>How many publishes a unit may have unconfirmed at once.</summary>
    public const int PublishesInFlight = 8;

    private readonly Queue<Task> _inFlight = new();

    /// <summary>The publish of each record batch, by batch id, until a <c>RepoSynced</c> names it.</summary>
    private readonly Dictionary<Guid, Task> _batchPublishes = [];
    private readonly List<FetchedRecord> _buffer = [];
    private readonly List<CollectionSweep> _sweeps = [];
    private readonly List<SyncedRepo> _synced = [];
    private readonly HashSet<string> _bufferRepos = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<Guid>> _repoBatches = new(StringComparer.Ordinal);
    private long _bufferBytes;
    private int _batches;
    private string _pdsUrl = "";

    public ScanTotals Totals { get; set; } = totals;

    public PdsProgress Pds { get; set; } = pds;

    /// <summary>Why the reading of the current PDS stopped early (a cap or a cycle), or null.</summary>
    public string? Limit { get; set; }

    /// <summary>The PDS the next records come from; a batch never mixes PDSes, so a change flushes the buffer first.</summary>
    public async Task ReadingFromAsync(string pdsUrl)
    {
        if (pdsUrl != _pdsUrl)
        {
            await SendAsync();
            _pdsUrl = pdsUrl;
        }
    }

    /// <summary>
    /// The requests a repo's fetch may send to the current PDS within <see cref="PdsScanOptions.MaxPagesPerPds"/>: what
    /// the cap leaves, less two (<c>describeRepo</c>, <c>getRepo</c>) for each of the <paramref name="reposBefore"/>
    /// repos to be applied before it.
    /// </summary>
    public int RequestBudget(int reposBefore = 0) => (int)Math.Clamp(settings.MaxPagesPerPds - Pds.Pages - (2L * reposBefore), 0, int.MaxValue);

    /// <summary>One more request to the current PDS, within the cap.</summary>
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

    public Task AddAsync(RecordEntry record) => AddAsync(record.Uri, record.Cid.Value, record.Value.GetRawText());

    /// <summary>A record by its JSON text (a verified read's, converted from its block).</summary>
    public Task AddAsync(AtUri uri, string cid, string json)
    {
        var bytes = Encoding.UTF8.GetByteCount(json);
        return AddAsync(bytes > settings.MaxRecordBytes
            ? new FetchedRecord(uri.Value, cid, "", $"the record is {bytes} bytes; the cap is {settings.MaxRecordBytes} (PdsScan:MaxRecordBytes)")
            : new FetchedRecord(uri.Value, cid, json));
    }

    /// <summary>A record read but not usable as one (<paramref name="problem"/> says why): sent on to be counted and listed.</summary>
    public Task AddRejectedAsync(string uri, string cid, string problem) => AddAsync(new FetchedRecord(uri, cid, "", problem));

    private async Task AddAsync(FetchedRecord fetched)
    {
        // A full batch leaves when its last repo is synced (RepoSyncedAsync), or when the next record comes — a repo larger
        // than what is left of the batch — not at once: the sweeps and revision of the repo its last records complete ride in it.
        if (_buffer.Count >= settings.RecordsPerBatch)
        {
            await SendAsync();
        }

        await MakeRoomAsync(fetched.Value.Length + fetched.Uri.Length + 128);

        _buffer.Add(fetched);
        _bufferRepos.Add(RepoOf(fetched.Uri));
        Pds = Pds with { Records = Pds.Records + 1 };
        Totals = Totals with { RecordsListed = Totals.RecordsListed + 1 };
        if (Pds.Records > settings.MaxRecordsPerPds)
        {
            throw new ScanLimitReachedException($"more than {settings.MaxRecordsPerPds} records in one scan (PdsScan:MaxRecordsPerPds)");
        }
    }

    /// <summary>Sends the buffer first if <paramref name="size"/> more bytes would take it past <see cref="PdsScanOptions.MaxBatchBytes"/>.</summary>
    private async Task MakeRoomAsync(long size)
    {
        if ((_buffer.Count > 0 || _sweeps.Count > 0) && _bufferBytes + SyncedBytes() + size > settings.MaxBatchBytes)
        {
            await SendAsync();
        }

        _bufferBytes += size;
    }

    /// <summary>Sends the buffered records and the repos synced so far, and waits until the broker has confirmed everything sent.</summary>
    public async Task FlushAsync()
    {
        await SendAsync();
        await DrainAsync();
    }

    /// <summary>
    /// Every path that ends a unit normally has flushed before this, so what is still unconfirmed here belongs to a unit
    /// that was cancelled or is failing with an exception of its own (which a publish's must not replace; it runs again).
    /// Each is still waited for, and a failure logged.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await DrainAsync();
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Operation {OperationId}: a batch of a unit that did not finish (lane {Lane}, unit {Sequence}) did not reach the broker",
                operationId, lane, sequence);
        }
    }

    /// <summary>
    /// Sends the buffered records and sweeps, with the repos synced so far that they complete, then the other repos
    /// synced so far (their records and sweeps sent before them).
    /// </summary>
    private async Task SendAsync()
    {
        if (_buffer.Count > 0 || _sweeps.Count > 0)
        {
            // A synced repo none of whose records or sweeps went out in an earlier batch has them all here (or has none): it
            // rides in this batch, and the IndexWorker records it in the same transaction, after the records. In a scan of
            // repos smaller than a batch that is every repo: a RepoSynced message, its transaction and its report to the
            // saga fewer per batch, and no wait at the scan's end for the last repos' revisions.
            var riding = _synced.Where(r => !_repoBatches.ContainsKey(r.Did)).ToList();
            // Not the sweeps' ListedFrom: a unit run again lists later, and must still send the same ids.
            var id = BatchId("records", _buffer.Select(r => $"{r.Uri} {r.Cid}")
                .Concat(_sweeps.SelectMany(w => w.PresentRkeys.Prepend($"sweep {w.Did} {w.Collection} {w.DeletionSource}")))
                // The riding repos by DID and kind only, not their revision: a unit run again after a crash, finding a repo
                // committed to since (a post, say) with the same Chive records, sends the same batch, which the ledger drops —
                // its records are not counted twice; the revision recorded stays the first run's, and the next scan reads
                // the repo again.
                .Concat(riding.Select(r => $"synced {r.Did} {r.Unchanged} {r.Verified}")));
            var synced = riding.Select(r => r with { Batches = _bufferRepos.Contains(r.Did) ? [id] : [] }).ToList();
            await SendBatchAsync(id, new IndexRecords(operationId, id, _pdsUrl, _buffer.ToList(), _sweeps.Count > 0 ? _sweeps.ToList() : null,
                synced.Count > 0 ? synced : null));
            foreach (var repo in _bufferRepos.Where(repo => !riding.Any(r => r.Did == repo)))
            {
                SentFor(repo, id);
            }

            _synced.RemoveAll(riding.Contains);

            _buffer.Clear();
            _sweeps.Clear();
            _bufferRepos.Clear();
            _bufferBytes = 0;
        }

        if (_synced.Count > 0)
        {
            var id = BatchId("synced", _synced.Select(SyncedLine));
            // Each repo carries the batches its records and sweeps went out in (all sent by now): the IndexWorker records
            // its commit as verified only if they are all applied.
            var repos = _synced.Select(r => r with { Batches = _repoBatches.Remove(r.Did, out var batches) ? batches : [] }).ToList();
            // Only once the broker holds every one of those batches: were one lost (its publish failing until the unit gives
            // up) while this arrived, the repo's revision would be recorded over records that never came, and the freshness
            // scan would take the repo for unchanged. The other publishes stay in flight.
            await Task.WhenAll(repos.SelectMany(r => r.Batches ?? []).Distinct().ToList()
                .Select(batch => _batchPublishes.Remove(batch, out var publish) ? publish : Task.CompletedTask));
            await TrackAsync(context.Publish(new RepoSynced(operationId, id, repos)));
            _synced.Clear();
        }
    }

    /// <summary>Keeps a publish in flight; waits for the oldest when <see cref="PublishesInFlight"/> are (a failure surfaces here).</summary>
    private async Task TrackAsync(Task publish)
    {
        _inFlight.Enqueue(publish);
        while (_inFlight.Count > PublishesInFlight || (_inFlight.Count > 0 && _inFlight.Peek().IsCompleted))
        {
            await _inFlight.Dequeue();
        }
    }

    /// <summary>A record batch: kept in flight, and by its id for the <c>RepoSynced</c> that will name it.</summary>
    private Task SendBatchAsync<T>(Guid id, T message)
        where T : class
    {
        var publish = context.Publish(message);
        _batchPublishes[id] = publish;
        return TrackAsync(publish);
    }

    /// <summary>Waits for all publishes in flight: every one observed, the first failure thrown.</summary>
    private async Task DrainAsync()
    {
        var all = _inFlight.ToArray();
        _inFlight.Clear();
        await Task.WhenAll(all);
    }

    /// <summary>
    /// A sweep rides in the next record batch (or, with none to come, a batch of its own at the flush): it never touches
    /// the keys it lists, so it need not follow its listing's records, and a batch of its own would cost the IndexWorker
    /// a transaction and the saga a report.
    /// </summary>
    public async Task SweepAsync(string did, string collection, IReadOnlyList<string> present, DateTimeOffset listedFrom, string deletionSource)
    {
        await MakeRoomAsync(present.Sum(k => k.Length + 4) + did.Length + collection.Length + 128);
        _sweeps.Add(new CollectionSweep(did, collection, present, listedFrom, deletionSource));
        _bufferRepos.Add(did);
    }

    /// <summary>
    /// After the repo's records: its revision, and the confirmation of its records (see <see cref="RepoSynced"/>), sent
    /// with the next batch — riding in it when the repo's records and sweeps are all there — together with every other
    /// repo synced until then. A batch this repo filled leaves now, with it. A repo synced twice keeps the last.
    /// <paramref name="verified"/>: <paramref name="commitCid"/> is a signed commit read and verified (or, with
    /// <paramref name="unchanged"/>, the verified commit recorded before, listed again).
    /// </summary>
    public async Task RepoSyncedAsync(string did, string pdsUrl, string rev, string? commitCid, bool unchanged, bool verified = false)
    {
        _synced.RemoveAll(r => r.Did == did);
        _synced.Add(new SyncedRepo(did, pdsUrl, rev, commitCid, unchanged, verified));
        if (_buffer.Count >= settings.RecordsPerBatch)
        {
            await SendAsync();
        }
    }

    /// <summary>What the repos synced so far add to the next batch, where they may ride (bounded by a unit's repos).</summary>
    private long SyncedBytes() => _synced.Sum(r => (long)r.Did.Length + r.PdsUrl.Length + r.Rev.Length + (r.CommitCid?.Length ?? 0) + 128);

    private static string SyncedLine(SyncedRepo repo) => $"{repo.Did} {repo.PdsUrl} {repo.Rev} {repo.Unchanged} {repo.Verified}";

    private void SentFor(string did, Guid batch)
    {
        if (!_repoBatches.TryGetValue(did, out var batches))
        {
            _repoBatches[did] = batches = [];
        }

        batches.Add(batch);
    }

    /// <summary>The repo (DID) of a record's AT-URI as the batch carries it; the whole text when it is not one.</summary>
    private static string RepoOf(string uri)
    {
        const string scheme = "at://";
        if (!uri.StartsWith(scheme, StringComparison.Ordinal))
        {
            return uri;
        }

        var end = uri.IndexOf('/', scheme.Length);
        return end < 0 ? uri[scheme.Length..] : uri[scheme.Length..end];
    }

    public Task RemoveRepoAsync(string did, string deletionSource) =>
        TrackAsync(context.Publish(new RemoveRepo(operationId, BatchId($"remove {did} {deletionSource}", []), did, deletionSource)));

    /// <summary>
    /// The batch's identity: the operation, the unit (lane and sequence), the batch's place in the unit, and what it holds.
    /// A unit run again after a crash sends the same ids for the same records (the IndexWorker's ledger drops the
    /// repeats); the same records reached twice in one operation — a DID listed on two pages or by two PDSes — get
    /// different ids, so every batch sent is a batch the ledger counts; if the PDS changed in between, the ids differ and
    /// nothing is dropped.
    /// </summary>
    private Guid BatchId(string kind, IEnumerable<string> content)
    {
        Totals = Totals with { BatchesSent = Totals.BatchesSent + 1 };
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{operationId:N}\n{lane}\n{sequence}\n{_batches++}\n{kind}\n"));
        foreach (var line in content)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(line + "\n"));
        }

        return new Guid(hash.GetHashAndReset().AsSpan(0, 16));
    }
}
