using Chive.Contracts.Indexing;
using Chive.IndexWorker.Indexing;
using Chive.IndexWorker.Search;
using Chive.ScanWorker.PdsScan;
using Chive.Tests.Infrastructure;
using Elastic.Clients.Elasticsearch;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Chive.Tests.PdsScan;

/// <summary>
/// When a repo's commit counts as verified — the only state that lets a PDS scan confirm the repo without reading it —
/// and how a scan unit sees it. The IndexWorker records a commit as verified when the read said so and every batch it
/// names is in the ledger (waiting for one that lands late; after <c>Ledger:RepoBatchesWait</c> a batch that never lands
/// leaves it unverified); a confirmation of the same commit on the same PDS keeps it verified, one naming no commit,
/// another commit or another PDS does not, and a repo removed (taken down, deleted) is unverified. A scan unit's view is
/// fixed the first time it runs: run again, it skips what it skipped, whatever was recorded meanwhile.
/// </summary>
[Collection(ChiveAppCollection.Name)]
public sealed class UnchangedRepoTests(ChiveAppFixture fixture)
{
    private const string Pds = "https://pds.example";
    private const string Cid = "bafyreib2rxk3rh6kzwq4pf4jbnfg7mq4hcqcbrqgd4dvsolzmqbfkzyxuy";

    private ScanDatabase Db => new(fixture.DatabaseConnectionString);

    [Fact]
    public async Task A_commit_is_recorded_verified_only_when_every_batch_of_its_read_is_in_the_ledger()
    {
        var operation = Guid.NewGuid();
        var (landed, late, lost) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        await LandAsync(operation, landed);
        var (complete, waited, incomplete) = (NewDid(), NewDid(), NewDid());

        await fixture.PublishAsync(new RepoSynced(operation, Guid.NewGuid(), [Read(complete, [landed]), Read(waited, [landed, late])]));
        await Task.Delay(1000);
        Assert.Equal(0L, await Db.ScalarAsync<long>("SELECT count(*) FROM repo_sync_state WHERE did = @d", ("d", waited))); // still waiting
        await LandAsync(operation, late);
        Assert.True(await VerifiedAsync(complete));
        Assert.True(await VerifiedAsync(waited));

        await fixture.PublishAsync(new RepoSynced(operation, Guid.NewGuid(), [Read(incomplete, [landed, lost])]));
        Assert.False(await VerifiedAsync(incomplete)); // after waiting for the lost batch
    }

    [Fact]
    public async Task A_revision_waiting_for_its_last_batch_is_recorded_as_soon_as_this_process_commits_that_batch()
    {
        await using var data = NpgsqlDataSource.Create(fixture.DatabaseConnectionString);
        // A clock that never moves: the ledger's poll pauses for ever, so only the commit itself can end the wait.
        var time = new FakeTimeProvider();
        var search = new SearchWriter(new ElasticsearchClient(new Uri("http://127.0.0.1:9")), NullLogger<SearchWriter>.Instance); // nothing to index: never called
        var processor = new IndexBatchProcessor(data, new RecordIndexer(data, NullLogger<RecordIndexer>.Instance), search,
            Options.Create(new LedgerOptions()), time, NullLogger<IndexBatchProcessor>.Instance);
        var (operation, batch, did) = (Guid.NewGuid(), Guid.NewGuid(), NewDid());

        var synced = processor.RepoSyncedAsync(new RepoSynced(operation, Guid.NewGuid(), [Read(did, [batch])]), CancellationToken.None);
        await Task.Delay(300);
        Assert.False(synced.IsCompleted); // waiting for the batch

        await processor.IndexAsync(new IndexRecords(operation, batch, Pds, []), CancellationToken.None);
        await synced.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(await VerifiedAsync(did));
    }

    [Fact]
    public async Task A_repo_riding_in_its_batch_is_recorded_in_the_batch_and_a_confirmation_riding_along_counts_its_records()
    {
        await using var data = NpgsqlDataSource.Create(fixture.DatabaseConnectionString);
        var search = new SearchWriter(new ElasticsearchClient(new Uri("http://127.0.0.1:9")), NullLogger<SearchWriter>.Instance); // user tags only: never called
        var processor = new IndexBatchProcessor(data, new RecordIndexer(data, NullLogger<RecordIndexer>.Instance), search,
            Options.Create(new LedgerOptions()), TimeProvider.System, NullLogger<IndexBatchProcessor>.Instance);
        var (read, other) = (PlcDid(), PlcDid());
        FetchedRecord Tag(string did, int n) => new($"at://{did}/pub.chive.eprint.userTag/3kabc{n:D8}", Cid, $$"""{"tag":"t{{n}}"}""");

        // A repo read whole, its two records and its revision in one batch: recorded verified, no RepoSynced needed.
        var (operation, first) = (Guid.NewGuid(), Guid.NewGuid());
        var totals = await processor.IndexAsync(new IndexRecords(operation, first, Pds, [Tag(read, 1), Tag(read, 2)], Synced: [Read(read, [first])]), CancellationToken.None);
        Assert.True(await VerifiedAsync(read));
        Assert.Equal((1L, 2L), (totals.Batches, totals.Records)); // its records counted once: written, not confirmed again
        var written = await Db.ScalarAsync<DateTime>("SELECT max(last_synced_at) FROM indexed_records WHERE did = @d", ("d", read));

        // The next scan finds it unchanged and confirms it in another repo's batch: its two records count as that batch's.
        var (again, second) = (Guid.NewGuid(), Guid.NewGuid());
        totals = await processor.IndexAsync(new IndexRecords(again, second, Pds, [Tag(other, 1)],
            Synced: [new SyncedRepo(read, Pds, "3kaaaaaaaaaa2", Cid, Unchanged: true, Verified: true, Batches: []), Read(other, [second])]), CancellationToken.None);
        Assert.Equal((1L, 3L), (totals.Batches, totals.Records));
        Assert.True(await VerifiedAsync(read));
        Assert.True(await VerifiedAsync(other));
        Assert.True(await Db.ScalarAsync<DateTime>("SELECT min(last_synced_at) FROM indexed_records WHERE did = @d", ("d", read)) > written);

        // Delivered again: the ledger drops it, counts nothing twice.
        totals = await processor.IndexAsync(new IndexRecords(again, second, Pds, [Tag(other, 1)],
            Synced: [new SyncedRepo(read, Pds, "3kaaaaaaaaaa2", Cid, Unchanged: true, Verified: true, Batches: []), Read(other, [second])]), CancellationToken.None);
        Assert.Equal((1L, 3L), (totals.Batches, totals.Records));
    }

    [Fact]
    public async Task A_confirmation_keeps_a_commit_verified_only_if_it_names_the_same_commit_on_the_same_PDS_and_a_removal_unverifies()
    {
        var operation = Guid.NewGuid();
        var (same, none, other, moved, removed) = (NewDid(), NewDid(), NewDid(), NewDid(), NewDid());
        await fixture.PublishAsync(new RepoSynced(operation, Guid.NewGuid(), [Read(same, []), Read(none, []), Read(other, []), Read(moved, []), Read(removed, [])]));
        foreach (var did in new[] { same, none, other, moved, removed })
        {
            Assert.True(await VerifiedAsync(did));
        }

        // As a freshness scan confirms by its listing (nothing re-read, not itself verified): the head it was given.
        await fixture.PublishAsync(new RepoSynced(operation, Guid.NewGuid(),
        [
            new SyncedRepo(same, Pds, "3kaaaaaaaaaa2", Cid, Unchanged: true),
            new SyncedRepo(none, Pds, "3kaaaaaaaaaa2", CommitCid: null, Unchanged: true), // a listing without a head: no failure, not verified
            new SyncedRepo(other, Pds, "3kaaaaaaaaaa3", "bafyreianothercommit", Unchanged: true),
            new SyncedRepo(moved, "https://elsewhere.example", "3kaaaaaaaaaa2", Cid, Unchanged: true),
        ]));
        await fixture.PublishAsync(new RemoveRepo(operation, Guid.NewGuid(), removed, "takedown"));
        await WaitForLedgerAsync(operation, 3);

        Assert.Equal(
            [(same, true), (none, false), (other, false), (moved, false), (removed, false)],
            await Task.WhenAll(new[] { same, none, other, moved, removed }.Select(async d => (d, await VerifiedAsync(d)))));
    }

    [Fact]
    public async Task A_scan_unit_run_again_sees_the_verified_commits_it_saw_the_first_time()
    {
        var (before, after) = (NewDid(), NewDid());
        await fixture.PublishAsync(new RepoSynced(Guid.NewGuid(), Guid.NewGuid(), [Read(before, [])]));
        Assert.True(await VerifiedAsync(before));
        await using var data = NpgsqlDataSource.Create(fixture.DatabaseConnectionString);
        var commits = new VerifiedCommits(data);
        var unit = (Operation: Guid.NewGuid(), Lane: 0, Sequence: 3);

        var first = await commits.GetAsync(unit.Operation, unit.Lane, unit.Sequence, [before, after], CancellationToken.None);
        // Meanwhile the first run's own RepoSynced records the other repo as verified, and the first one is read again.
        await fixture.PublishAsync(new RepoSynced(Guid.NewGuid(), Guid.NewGuid(), [Read(after, [])]));
        Assert.True(await VerifiedAsync(after));
        var again = await commits.GetAsync(unit.Operation, unit.Lane, unit.Sequence, [before, after], CancellationToken.None);
        var nextUnit = await commits.GetAsync(unit.Operation, unit.Lane, unit.Sequence + 1, [before, after], CancellationToken.None);

        Assert.Equal([before], first.Keys);
        Assert.Equal(new VerifiedCommit(Pds, "3kaaaaaaaaaa2", Cid, 0), first[before]);
        Assert.Equal(first, again);
        Assert.Equal(new[] { before, after }.Order(StringComparer.Ordinal), nextUnit.Keys.Order(StringComparer.Ordinal)); // another unit sees both
    }

    private static SyncedRepo Read(string did, IReadOnlyList<Guid> batches) =>
        new(did, Pds, "3kaaaaaaaaaa2", Cid, Unchanged: false, Verified: true, Batches: batches);

    private static string NewDid() => $"did:plc:{Guid.NewGuid():N}"[..32];

    /// <summary>A DID a record's AT-URI can carry (did:plc's base32 alphabet).</summary>
    private static string PlcDid() => "did:plc:" + string.Concat(Guid.NewGuid().ToByteArray().Concat(Guid.NewGuid().ToByteArray()).Take(24)
        .Select(b => "abcdefghijklmnopqrstuvwxyz234567"[b % 32]));

    private Task LandAsync(Guid operation, Guid batch) =>
        Db.ExecuteAsync("INSERT INTO operation_batches (operation_id, batch_id) VALUES (@op, @batch)", ("op", operation), ("batch", batch));

    /// <summary>The recorded state's verified flag, once the state exists (waiting up to a minute).</summary>
    private async Task<bool> VerifiedAsync(string did)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (await Db.ScalarAsync<long>("SELECT count(*) FROM repo_sync_state WHERE did = @d", ("d", did)) == 0)
        {
            Assert.True(DateTime.UtcNow < until, $"no state recorded for {did}");
            await Task.Delay(100);
        }

        return await Db.ScalarAsync<bool>("SELECT verified FROM repo_sync_state WHERE did = @d", ("d", did));
    }

    /// <summary>Waits until the operation's ledger holds <paramref name="rows"/> applied batches.</summary>
    private async Task WaitForLedgerAsync(Guid operation, long rows)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (await Db.ScalarAsync<long>("SELECT count(*) FROM operation_batches WHERE operation_id = @op", ("op", operation)) < rows)
        {
            Assert.True(DateTime.UtcNow < until, $"the ledger of {operation} did not reach {rows} batches");
            await Task.Delay(100);
        }
    }
}
