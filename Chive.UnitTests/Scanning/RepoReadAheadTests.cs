using System.Text.Json;
using System.Text.Json.Nodes;
using Chive.AtProto.Identifiers;
using Chive.AtProto.Identity;
using Chive.AtProto.Xrpc;
using Chive.Contracts.Indexing;
using Chive.Contracts.PdsScan;
using Chive.ScanWorker.PdsScan;
using Chive.Testing;
using Chive.Testing.Doubles;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Chive.UnitTests.Scanning;

/// <summary>
/// A verified read split in two — the requests (<see cref="RepoReader.FetchAsync"/>, run ahead and at once) and the
/// batcher's half (<see cref="RepoReader.ApplyAsync"/>, in page order) — sends exactly the messages, outcomes and counts
/// of repos read one at a time, whatever each repo turns out to be, and meets a cap or a failed host at the same repo.
/// Each repo lives on its own did:web double (its own PDS), so one batcher also crosses PDSes, as a freshness unit does.
/// </summary>
public sealed class RepoReadAheadTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly List<DidWebHost> _hosts = [];
    private DidWebHost _complete = null!, _bluesky = null!, _elsewhere = null!, _forged = null!, _unresolved = null!, _small = null!, _down = null!;

    public async Task InitializeAsync()
    {
        _complete = await HostAsync(h =>
        {
            h.Records["pub.chive.eprint.submission"] = new() { ["3kaaaaaaaaaa2"] = new JsonObject { ["title"] = "One" } };
            h.Records["pub.chive.eprint.userTag"] = new()
            {
                ["3kaaaaaaaaab2"] = new JsonObject { ["tag"] = "a" },
                ["3kaaaaaaaaac2"] = new JsonObject { ["tag"] = "b" },
            };
            h.Records["app.bsky.feed.post"] = new() { ["3kaaaaaaaaad2"] = new JsonObject { ["text"] = "not ours" } };
        });
        _bluesky = await HostAsync(h => h.Records["app.bsky.feed.post"] = new() { ["3kaaaaaaaaaa2"] = new JsonObject { ["text"] = "only posts" } });
        _elsewhere = await HostAsync(h =>
        {
            h.Records["pub.chive.eprint.userTag"] = new() { ["3kaaaaaaaaah2"] = new JsonObject { ["tag"] = "elsewhere" } };
            h.Document = h.DocumentNaming(_complete.BaseAddress.ToString().TrimEnd('/'));
        });
        _forged = await HostAsync(h =>
        {
            h.Records["pub.chive.eprint.userTag"] = new() { ["3kaaaaaaaaae2"] = new JsonObject { ["tag"] = "forged" } };
            h.Signer.Dispose();
            h.Signer = new ServiceAuthSigner(SigningKeyCurve.P256); // signs with a key its document does not name
        });
        _unresolved = await HostAsync(h =>
        {
            h.Records["pub.chive.eprint.userTag"] = new() { ["3kaaaaaaaaag2"] = new JsonObject { ["tag"] = "nobody's" } };
            h.Document = null;
        });
        _small = await HostAsync(h => h.Records["pub.chive.eprint.userTag"] = new() { ["3kaaaaaaaaaf2"] = new JsonObject { ["tag"] = "c" } });
        _down = await HostAsync(_ => { });
        await _down.DisposeAsync(); // nothing listens there any more: a host failure
    }

    public async Task DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            host.Signer.Dispose();
            if (host != _down)
            {
                await host.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Repos_fetched_ahead_and_applied_in_order_send_exactly_what_a_one_at_a_time_read_sends()
    {
        var hosts = new[] { _complete, _bluesky, _elsewhere, _forged, _unresolved, _small };

        var one = await ReadInTurnAsync(hosts, new PdsScanOptions { RecordsPerBatch = 2 });
        var ahead = await FetchAheadAsync(hosts, new PdsScanOptions { RecordsPerBatch = 2 });

        Assert.Equal([RepoRead.Complete, RepoRead.Empty, RepoRead.NotHosted, RepoRead.Unverified, RepoRead.NotHosted, RepoRead.Complete], one.Outcomes);
        Assert.Equal(one.Outcomes, ahead.Outcomes);
        Assert.Equal(one.Messages, ahead.Messages);
        Assert.Contains(one.Messages, m => m.StartsWith(nameof(IndexRecords), StringComparison.Ordinal));
        Assert.Equal(one.Totals, ahead.Totals);
        Assert.Equal((1, 1, 1), (one.Totals.ReposNotHosted, one.Totals.ReposSkipped, one.Totals.ReposUnverified)); // elsewhere; unresolved; forged
        Assert.Equal(one.Pds, ahead.Pds);
        Assert.Null(one.Error);
    }

    [Fact]
    public async Task A_cap_and_a_failed_host_stop_the_read_ahead_at_the_same_repo_as_a_read_in_turn()
    {
        // Five requests: the complete repo takes two, the Bluesky one one, the one living elsewhere one, the forged one's
        // describeRepo the fifth — its getRepo is over the cap: a read in turn does not send it; a read ahead that had
        // fetched it anyway stops at the same place.
        var capped = new PdsScanOptions { RecordsPerBatch = 2, MaxPagesPerPds = 5 };
        var hosts = new[] { _complete, _bluesky, _elsewhere, _forged, _small };
        var one = await ReadInTurnAsync(hosts, capped);
        Assert.Equal(0, _forged.RepoDownloads);
        var ahead = await FetchAheadAsync(hosts, capped);
        Assert.IsType<ScanLimitReachedException>(one.Error);
        Assert.IsType<ScanLimitReachedException>(ahead.Error);
        Assert.Equal([RepoRead.Complete, RepoRead.Empty, RepoRead.NotHosted], ahead.Outcomes);
        Assert.Equal(one.Outcomes, ahead.Outcomes);
        Assert.Equal(one.Messages, ahead.Messages);

        // A host that fails is thrown where its request was: the repo after it, fetched ahead, is never applied.
        hosts = [_complete, _down, _small];
        one = await ReadInTurnAsync(hosts, new PdsScanOptions { RecordsPerBatch = 2 });
        ahead = await FetchAheadAsync(hosts, new PdsScanOptions { RecordsPerBatch = 2 });
        Assert.True(Assert.IsType<XrpcException>(ahead.Error).IsHostFailure);
        Assert.IsType<XrpcException>(one.Error);
        Assert.Equal([RepoRead.Complete], ahead.Outcomes);
        Assert.Equal(one.Outcomes, ahead.Outcomes);
        Assert.Equal(one.Messages, ahead.Messages);
        Assert.Equal(one.Pds, ahead.Pds);
    }

    [Fact]
    public async Task A_repo_fetched_with_less_budget_than_the_cap_left_is_a_bug_of_the_caller_and_fails_loudly()
    {
        foreach (var budget in new[] { 0, 1 })
        {
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => RunAsync(new PdsScanOptions(), async (reader, batcher, outcomes) =>
            {
                var fetched = await reader.FetchAsync(_complete.BaseAddress, Did.Parse(_complete.Did), new HashSet<string>(), budget, CancellationToken.None);
                Assert.Equal(budget, fetched.Sent);
                await reader.ApplyAsync(batcher, _complete.BaseAddress, Did.Parse(_complete.Did), fetched, SweepCollection.ScanMissing);
            }));
            Assert.Contains("smaller request budget", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Keys_the_owner_signed_that_name_no_record_are_rejected_and_never_reach_a_sweep()
    {
        // A signed CAR's keys are the owner's to write: a record key with a NUL, a "collection" with a newline.
        var hostile = await HostAsync(h =>
        {
            h.Records["pub.chive.eprint.userTag"] = new()
            {
                ["3kaaaaaaaaab2"] = new JsonObject { ["tag"] = "fine" },
                ["3kaaa\u0000bad"] = new JsonObject { ["tag"] = "a NUL in its key" },
            };
            h.Records["pub.chive.bad\ncollection"] = new() { ["3kaaaaaaaaac2"] = new JsonObject { ["tag"] = "no NSID" } };
        });

        var run = await ReadInTurnAsync([hostile], new PdsScanOptions());

        Assert.Null(run.Error);
        Assert.Equal([RepoRead.Complete], run.Outcomes);
        var batch = Assert.Single(run.Messages.Where(m => m.StartsWith(nameof(IndexRecords) + " ", StringComparison.Ordinal))
            .Select(m => JsonSerializer.Deserialize<IndexRecords>(m[(nameof(IndexRecords).Length + 1)..])!));
        var sweep = Assert.Single(batch.Sweeps!); // none for the collection that is no NSID
        Assert.Equal(("pub.chive.eprint.userTag", new[] { "3kaaaaaaaaab2" }), (sweep.Collection, sweep.PresentRkeys.ToArray()), TupleOfArrays);
        Assert.Equal(2, batch.Records.Count(r => r.Problem?.StartsWith("invalid AT-URI", StringComparison.Ordinal) == true));
        Assert.Equal(["fine"], batch.Records.Where(r => r.Problem is null).Select(r => JsonNode.Parse(r.Value)!["tag"]!.GetValue<string>()));
    }

    private static readonly IEqualityComparer<(string, string[])> TupleOfArrays =
        EqualityComparer<(string, string[])>.Create((a, b) => a.Item1 == b.Item1 && a.Item2.SequenceEqual(b.Item2), t => t.Item1.GetHashCode());

    private async Task<DidWebHost> HostAsync(Action<DidWebHost> configure)
    {
        var host = await DidWebHost.StartNewAsync();
        host.Signer = new ServiceAuthSigner(SigningKeyCurve.Secp256k1);
        host.Document = host.DocumentNaming();
        configure(host);
        _hosts.Add(host);
        return host;
    }

    private static Task<Run> ReadInTurnAsync(IEnumerable<DidWebHost> hosts, PdsScanOptions options) =>
        RunAsync(options, async (reader, batcher, outcomes) =>
        {
            foreach (var host in hosts)
            {
                outcomes.Add((await reader.ReadAsync(batcher, host.BaseAddress, Did.Parse(host.Did), new HashSet<string>(), SweepCollection.ScanMissing, CancellationToken.None)).Outcome);
            }
        });

    private static Task<Run> FetchAheadAsync(IEnumerable<DidWebHost> hosts, PdsScanOptions options) =>
        RunAsync(options, async (reader, batcher, outcomes) =>
        {
            // Every repo fetched at once, with room for all its requests (the consumer starts one ahead only with room).
            var fetches = hosts.Select(h => (Host: h, Fetch: reader.FetchAsync(h.BaseAddress, Did.Parse(h.Did), new HashSet<string>(), int.MaxValue, CancellationToken.None))).ToList();
            await Task.WhenAll(fetches.Select(f => f.Fetch)); // all of them fetched before the first is applied
            foreach (var (host, fetch) in fetches)
            {
                outcomes.Add((await reader.ApplyAsync(batcher, host.BaseAddress, Did.Parse(host.Did), await fetch, SweepCollection.ScanMissing)).Outcome);
            }
        });

    /// <summary>One read with a fresh batcher on an always-confirming broker; the messages as JSON, in the order sent.</summary>
    private static async Task<Run> RunAsync(PdsScanOptions options, Func<RepoReader, ScanBatcher, List<RepoRead>, Task> read)
    {
        var broker = ScanBatcherPublishTests.ConfirmingBroker.Create(out var context);
        broker.AutoConfirm = true;
        var resolver = TestClients.Resolver(new Uri("http://127.0.0.1:9/"), o => o.DidWebScheme = "http");
        var reader = new RepoReader(
            TestClients.Xrpc(TestClients.FastOptions(o => o.MaxRetries = 0)), resolver, Options.Create(new SyncOptions { Mode = SyncMode.Verified }),
            new FakeTimeProvider(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero)), NullLogger<RepoReader>.Instance);
        var batcher = new ScanBatcher(OperationId, lane: 0, sequence: 0, context, options, ScanTotals.Zero, PdsProgress.Zero, NullLogger.Instance);
        var outcomes = new List<RepoRead>();
        Exception? error = null;
        try
        {
            await read(reader, batcher, outcomes).WaitAsync(Timeout);
            await batcher.FlushAsync();
        }
        catch (Exception ex) when (ex is ScanLimitReachedException or XrpcException)
        {
            error = ex;
        }

        var messages = broker.Sent.Select(s => $"{s.Message.GetType().Name} {JsonSerializer.Serialize(s.Message, s.Message.GetType())}").ToList();
        return new Run(outcomes, messages, batcher.Totals, batcher.Pds, error);
    }

    private static readonly Guid OperationId = Guid.Parse("0b1f6c8e-5d7a-4c1e-9a51-3f0e2d4c6b7a");

    private sealed record Run(List<RepoRead> Outcomes, List<string> Messages, ScanTotals Totals, PdsProgress Pds, Exception? Error);
}
