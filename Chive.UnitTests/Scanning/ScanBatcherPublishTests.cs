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
/// reads on while they are unconfirmed (at most <see cref="ScanBatcher.PublishesInFlight"/>), a repo's <c>RepoSynced</c>
/// waits for the batches it names, and a flush waits for everything (and fails when a publish failed).
/// </summary>
public sealed class ScanBatcherPublishTests
{
    private const string RepoA = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa";
    private const string RepoB = "did:plc:bbbbbbbbbbbbbbbbbbbbbbbb";

    [Fact]
    public async Task A_repos_RepoSynced_waits_until_the_broker_holds_every_batch_it_names()
    {
        var broker = ConfirmingBroker.Create(out var context);
        var batcher = Batcher(context, recordsPerBatch: 2);
        await batcher.AddAsync(Record(RepoA, 1));
        await batcher.AddAsync(Record(RepoA, 2)); // records batch 1 (A), unconfirmed: the unit reads on
        Assert.Single(broker.Sent);
        batcher.RepoSynced(RepoA, "https://pds.example", "3kabc", null, unchanged: false, verified: true);

        await batcher.AddAsync(Record(RepoB, 1));
        var second = batcher.AddAsync(Record(RepoB, 2)); // records batch 2 (B), then A's RepoSynced: not before batch 1 is confirmed
        Assert.Equal(2, broker.Sent.Count);
        Assert.False(second.IsCompleted);

        broker.Confirm(0);
        await second.WaitAsync(TimeSpan.FromSeconds(5));
        var synced = Assert.IsType<RepoSynced>(broker.Sent[2].Message);
        Assert.Equal([((IndexRecords)broker.Sent[0].Message).BatchId], Assert.Single(synced.Repos).Batches!);

        var flush = batcher.FlushAsync();
        Assert.False(flush.IsCompleted); // batch 2 and the RepoSynced are not confirmed yet
        broker.ConfirmAll();
        await flush.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task No_more_than_the_limit_stay_unconfirmed_and_a_failed_publish_fails_the_flush()
    {
        var broker = ConfirmingBroker.Create(out var context);
        var batcher = Batcher(context, recordsPerBatch: 1);
        for (var i = 0; i < ScanBatcher.PublishesInFlight; i++)
        {
            await batcher.AddAsync(Record(RepoA, i)); // one batch each, none confirmed
        }

        var over = batcher.AddAsync(Record(RepoA, 100));
        Assert.False(over.IsCompleted);
        broker.Confirm(0);
        await over.WaitAsync(TimeSpan.FromSeconds(5));

        broker.Fail(1, new InvalidOperationException("the broker refused it"));
        broker.ConfirmAll();
        await Assert.ThrowsAsync<InvalidOperationException>(() => batcher.FlushAsync().WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task A_sweep_rides_in_the_next_record_batch_or_in_one_of_its_own_at_the_flush_and_its_repo_names_that_batch()
    {
        var broker = ConfirmingBroker.Create(out var context);
        broker.AutoConfirm = true;
        var batcher = Batcher(context, recordsPerBatch: 3);
        var listedFrom = DateTimeOffset.UnixEpoch;
        await batcher.AddAsync(Record(RepoA, 1));
        await batcher.SweepAsync(RepoA, "pub.chive.eprint.userTag", ["3kabc00000001"], listedFrom, SweepCollection.ScanMissing);
        Assert.Empty(broker.Sent); // waits for a batch to ride in
        await batcher.AddAsync(Record(RepoB, 1));
        await batcher.AddAsync(Record(RepoB, 2)); // three records: the batch leaves, with A's sweep
        var first = Assert.IsType<IndexRecords>(Assert.Single(broker.Sent).Message);
        Assert.Equal(3, first.Records.Count);
        var sweep = Assert.Single(first.Sweeps!);
        Assert.Equal((RepoA, "pub.chive.eprint.userTag"), (sweep.Did, sweep.Collection));
        Assert.Equal(["3kabc00000001"], sweep.PresentRkeys);

        batcher.RepoSynced(RepoA, "https://pds.example", "3kabc", null, unchanged: false, verified: true);
        await batcher.SweepAsync(RepoB, "pub.chive.eprint.userTag", ["3kabc00000001", "3kabc00000002"], listedFrom, SweepCollection.ScanMissing);
        batcher.RepoSynced(RepoB, "https://pds.example", "3kabd", null, unchanged: false, verified: true);
        await batcher.FlushAsync(); // no records left: B's sweep in a batch of its own, before the repos it completes
        var second = Assert.IsType<IndexRecords>(broker.Sent[1].Message);
        Assert.Empty(second.Records);
        Assert.Equal(RepoB, Assert.Single(second.Sweeps!).Did);
        var synced = Assert.IsType<RepoSynced>(broker.Sent[2].Message).Repos.ToDictionary(r => r.Did, r => r.Batches!);
        Assert.Equal([first.BatchId], synced[RepoA]);
        Assert.Equal([first.BatchId, second.BatchId], synced[RepoB]);
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

    private static ScanBatcher Batcher(ConsumeContext context, int recordsPerBatch) =>
        new(Guid.NewGuid(), lane: 0, sequence: 0, context, new PdsScanOptions { RecordsPerBatch = recordsPerBatch }, ScanTotals.Zero,
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
