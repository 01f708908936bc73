using System.Reflection;
using System.Text.Json;
using Chive.AtProto.Identifiers;
using Chive.AtProto.Xrpc;
using Chive.Contracts.Indexing;
using Chive.Contracts.PdsScan;
using Chive.ScanWorker.PdsScan;
using MassTransit;
using Microsoft.Extensions.Logging.Abstractions;

namespace Chive.UnitTests.Scanning;

/// <summary>
/// The <see cref="ScanBatcher"/>'s publishes, on a consume context whose broker confirms only when the test says: the unit
/// reads on while they are unconfirmed (at most <see cref="ScanBatcher.PublishesInFlight"/>), a repo read within one batch
/// rides in it, a repo read across batches gets a <c>RepoSynced</c> that waits for the batches it names, and a flush waits
/// for everything (and fails when a publish failed).
/// </summary>
public sealed class ScanBatcherPublishTests
{
    private const string RepoA = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa";
    private const string RepoB = "did:plc:bbbbbbbbbbbbbbbbbbbbbbbb";
    private const string RepoC = "did:plc:cccccccccccccccccccccccc";

    [Fact]
    public async Task A_repo_read_across_batches_gets_a_RepoSynced_once_the_broker_holds_every_batch_it_names()
    {
        var broker = ConfirmingBroker.Create(out var context);
        var batcher = Batcher(context, recordsPerBatch: 2);
        await batcher.AddAsync(Record(RepoA, 1));
        await batcher.AddAsync(Record(RepoA, 2));
        Assert.Empty(broker.Sent); // full, but it leaves with the next record: what completes a repo may still come
        await batcher.AddAsync(Record(RepoA, 3)); // records batch 1 (A 1–2), unconfirmed: the unit reads on
        Assert.Single(broker.Sent);
        await batcher.RepoSyncedAsync(RepoA, "https://pds.example", "3kabc", null, unchanged: false, verified: true);

        await batcher.AddAsync(Record(RepoB, 1));
        var third = batcher.AddAsync(Record(RepoB, 2)); // records batch 2 (A 3, B 1), then A's RepoSynced: not before batches 1 and 2 are confirmed
        Assert.Equal(2, broker.Sent.Count);
        var second = Assert.IsType<IndexRecords>(broker.Sent[1].Message);
        Assert.Null(second.Synced); // A's records went out in two batches: it does not ride
        broker.Confirm(0);
        await Task.Delay(100);
        Assert.False(third.IsCompleted);
        Assert.Equal(2, broker.Sent.Count);

        broker.Confirm(1);
        await third.WaitAsync(TimeSpan.FromSeconds(5));
        var synced = Assert.IsType<RepoSynced>(broker.Sent[2].Message);
        Assert.Equal([((IndexRecords)broker.Sent[0].Message).BatchId, second.BatchId], Assert.Single(synced.Repos).Batches!);

        var flush = batcher.FlushAsync();
        Assert.False(flush.IsCompleted); // the RepoSynced and batch 3 (B 2) are not confirmed yet
        broker.ConfirmAll();
        await flush.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task No_more_than_the_limit_stay_unconfirmed_and_a_failed_publish_fails_the_flush()
    {
        var broker = ConfirmingBroker.Create(out var context);
        var batcher = Batcher(context, recordsPerBatch: 1);
        for (var i = 0; i <= ScanBatcher.PublishesInFlight; i++)
        {
            await batcher.AddAsync(Record(RepoA, i)); // one batch each (each leaving with the next record), none confirmed
        }

        Assert.Equal(ScanBatcher.PublishesInFlight, broker.Sent.Count);
        var over = batcher.AddAsync(Record(RepoA, 100));
        Assert.False(over.IsCompleted);
        broker.Confirm(0);
        await over.WaitAsync(TimeSpan.FromSeconds(5));

        broker.Fail(1, new InvalidOperationException("the broker refused it"));
        broker.ConfirmAll();
        await Assert.ThrowsAsync<InvalidOperationException>(() => batcher.FlushAsync().WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Sweeps_and_revisions_ride_in_the_batch_that_completes_their_repos_and_the_id_covers_them()
    {
        var broker = ConfirmingBroker.Create(out var context);
        broker.AutoConfirm = true;
        var batcher = Batcher(context, recordsPerBatch: 3);
        var listedFrom = DateTimeOffset.UnixEpoch;
        await batcher.AddAsync(Record(RepoA, 1));
        await batcher.SweepAsync(RepoA, "pub.chive.eprint.userTag", ["3kabc00000001"], listedFrom, SweepCollection.ScanMissing);
        await batcher.RepoSyncedAsync(RepoA, "https://pds.example", "3kabc", null, unchanged: false, verified: true);
        await batcher.RepoSyncedAsync(RepoC, "https://pds.example", "3kabe", "bafyreiunchangedcommit", unchanged: true, verified: true); // confirmed unread: no records
        await batcher.AddAsync(Record(RepoB, 1));
        await batcher.AddAsync(Record(RepoB, 2));
        await batcher.SweepAsync(RepoB, "pub.chive.eprint.userTag", ["3kabc00000001", "3kabc00000002"], listedFrom, SweepCollection.ScanMissing);
        Assert.Empty(broker.Sent); // three records: full, but their last repo is not complete yet
        await batcher.RepoSyncedAsync(RepoB, "https://pds.example", "3kabd", null, unchanged: false, verified: true);
        Assert.Single(broker.Sent); // it is: the batch leaves, with it
        await batcher.FlushAsync();

        var batch = Assert.IsType<IndexRecords>(Assert.Single(broker.Sent).Message); // no RepoSynced of its own
        Assert.Equal(3, batch.Records.Count);
        Assert.Equal([RepoA, RepoB], batch.Sweeps!.Select(w => w.Did));
        var synced = batch.Synced!.ToDictionary(r => r.Did);
        Assert.Equal([batch.BatchId], synced[RepoA].Batches!);
        Assert.Equal([batch.BatchId], synced[RepoB].Batches!);
        Assert.Empty(synced[RepoC].Batches!);
        Assert.Equal(1, batcher.Totals.BatchesSent);
    }

    [Fact]
    public async Task A_unit_run_again_finding_a_riding_repo_at_a_later_revision_sends_the_same_batch()
    {
        async Task<Guid> IdAsync(Guid operationId, string rev, bool withUnchanged = false)
        {
            var broker = ConfirmingBroker.Create(out var context);
            broker.AutoConfirm = true;
            var batcher = Batcher(context, recordsPerBatch: 3, operationId);
            await batcher.AddAsync(Record(RepoA, 1));
            await batcher.SweepAsync(RepoA, "pub.chive.eprint.userTag", ["3kabc00000001"], DateTimeOffset.UnixEpoch, SweepCollection.ScanMissing);
            await batcher.RepoSyncedAsync(RepoA, "https://pds.example", rev, null, unchanged: false, verified: true);
            if (withUnchanged)
            {
                await batcher.RepoSyncedAsync(RepoC, "https://pds.example", "3kabe", "bafyreiunchangedcommit", unchanged: true, verified: true);
            }

            await batcher.FlushAsync();
            var batch = (IndexRecords)Assert.Single(broker.Sent).Message;
            Assert.Equal(rev, batch.Synced!.Single(r => r.Did == RepoA).Rev);
            return batch.BatchId;
        }

        var operation = Guid.NewGuid();
        // A post committed meanwhile: the same Chive records, a later revision — the same batch, which the ledger drops (its
        // records are not counted twice; the next scan reads the repo again).
        Assert.Equal(await IdAsync(operation, "3kabc"), await IdAsync(operation, "3kabz"));
        Assert.NotEqual(await IdAsync(operation, "3kabc"), await IdAsync(operation, "3kabc", withUnchanged: true)); // another repo riding
    }

    [Fact]
    public async Task A_sweep_with_no_records_after_it_leaves_in_a_batch_of_its_own_at_the_flush_with_its_repo()
    {
        var broker = ConfirmingBroker.Create(out var context);
        broker.AutoConfirm = true;
        var batcher = Batcher(context, recordsPerBatch: 2);
        var listedFrom = DateTimeOffset.UnixEpoch;
        await batcher.AddAsync(Record(RepoA, 1));
        await batcher.AddAsync(Record(RepoB, 1));
        await batcher.AddAsync(Record(RepoB, 2)); // the first batch (A 1, B 1) leaves
        var first = Assert.IsType<IndexRecords>(Assert.Single(broker.Sent).Message);
        await batcher.SweepAsync(RepoB, "pub.chive.eprint.userTag", ["3kabc00000001", "3kabc00000002"], listedFrom, SweepCollection.ScanMissing);
        await batcher.RepoSyncedAsync(RepoB, "https://pds.example", "3kabd", null, unchanged: false, verified: true);
        await batcher.FlushAsync(); // B 2 and B's sweep, then B's revision on its own: B went out in two batches
        var second = Assert.IsType<IndexRecords>(broker.Sent[1].Message);
        Assert.Equal(RepoB, Assert.Single(second.Sweeps!).Did);
        var synced = Assert.IsType<RepoSynced>(broker.Sent[2].Message);
        Assert.Equal([first.BatchId, second.BatchId], Assert.Single(synced.Repos).Batches!);
        Assert.Equal(3, batcher.Totals.BatchesSent);
    }

    [Fact]
    public async Task A_unit_run_again_sends_the_same_batch_ids_though_its_listings_began_later()
    {
        async Task<Guid[]> RunAsync(DateTimeOffset listedFrom)
        {
            var broker = ConfirmingBroker.Create(out var context);
            broker.AutoConfirm = true;
            var batcher = new ScanBatcher(Guid.Empty, lane: 0, sequence: 0, context, new PdsScanOptions { RecordsPerBatch = 3 }, ScanTotals.Zero,
                PdsProgress.Zero, NullLogger.Instance);
            await batcher.AddAsync(Record(RepoA, 1));
            await batcher.SweepAsync(RepoA, "pub.chive.eprint.userTag", ["3kabc00000001"], listedFrom, SweepCollection.ScanMissing);
            await batcher.FlushAsync();
            return broker.Sent.Select(s => ((IndexRecords)s.Message).BatchId).ToArray();
        }

        Assert.Equal(await RunAsync(DateTimeOffset.UnixEpoch), await RunAsync(DateTimeOffset.UnixEpoch.AddMinutes(5)));
    }

    private static ScanBatcher Batcher(ConsumeContext context, int recordsPerBatch, Guid? operationId = null) =>
        new(operationId ?? Guid.NewGuid(), lane: 0, sequence: 0, context, new PdsScanOptions { RecordsPerBatch = recordsPerBatch }, ScanTotals.Zero,
            PdsProgress.Zero, NullLogger.Instance);

    private static RecordEntry Record(string did, int n) => new(
        AtUri.Parse($"at://{did}/pub.chive.eprint.userTag/3kabc{n:D8}"),
        Cid.Parse("bafyreibidxi32k5g6ffkqrif7oqf23gvgnrrzjs5w2xraxwmlxgcgucj7i"),
        JsonSerializer.SerializeToElement(new { tag = $"t{n}" }));

    /// <summary>
    /// A <see cref="ConsumeContext"/> of which only <c>Publish</c> works: each publish is recorded and completes (the
    /// broker's confirmation) when the test confirms or fails it. Every other member throws: the batcher uses none.
    /// </summary>
    public class ConfirmingBroker : DispatchProxy
    {
        public List<(object Message, TaskCompletionSource Confirmed)> Sent { get; } = [];

        /// <summary>Every publish confirmed as it is sent (a broker that keeps up).</summary>
        public bool AutoConfirm { get; set; }

        public static ConfirmingBroker Create(out ConsumeContext context)
        {
            context = DispatchProxy.Create<ConsumeContext, ConfirmingBroker>();
            return (ConfirmingBroker)(object)context;
        }

        public void Confirm(int index) => Sent[index].Confirmed.TrySetResult();

        public void Fail(int index, Exception error) => Sent[index].Confirmed.TrySetException(error);

        public void ConfirmAll() => Sent.ForEach(s => s.Confirmed.TrySetResult());

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod is { Name: "Publish", IsGenericMethod: true } && args is [{ } message, CancellationToken])
            {
                var confirmed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                Sent.Add((message, confirmed));
                if (AutoConfirm)
                {
                    confirmed.SetResult();
                }

                return confirmed.Task;
            }

            throw new NotSupportedException($"the test's consume context does not do {targetMethod?.Name}");
        }
    }
}
