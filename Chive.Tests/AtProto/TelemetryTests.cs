using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Chive.AtProto.Xrpc;
using Chive.Testing;
using Chive.Testing.Doubles;
using Chive.Tests.Infrastructure;

namespace Chive.Tests.AtProto;

/// <summary>A span per XRPC call and counters by method and outcome, as the dashboard and Prometheus will see them.</summary>
[Collection(AtprotoNetworkCollection.Name)]
public sealed class TelemetryTests(AtprotoNetworkFixture fixture)
{
    [Fact]
    public async Task Each_call_has_a_span_with_method_host_and_status_and_is_counted_by_outcome()
    {
        await using var proxy = await HttpFaultProxy.StartNewAsync(fixture.Network.PdsUrls[0]);
        proxy.Enqueue(new HttpFault.Status(500), new HttpFault.Status(400, "InvalidRequest"));
        var spans = new ConcurrentBag<Activity>();
        using var activities = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Chive.AtProto",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(activities);
        var measurements = new ConcurrentBag<(string Instrument, long Value, Dictionary<string, object?> Tags)>();
        using var meters = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "Chive.AtProto")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        meters.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var bag = new Dictionary<string, object?>();
            foreach (var tag in tags)
            {
                bag[tag.Key] = tag.Value;
            }

            if (Equals(bag.GetValueOrDefault("method"), XrpcClient.ListRepos))
            {
                measurements.Add((instrument.Name, value, bag));
            }
        });
        meters.Start();

        var client = TestClients.Xrpc();
        var error = await Assert.ThrowsAsync<XrpcException>(() => client.ListReposPageAsync(proxy.BaseAddress));

        Assert.Equal(XrpcErrorKind.InvalidRequest, error.Kind);
        var span = Assert.Single(spans, s => (string?)s.GetTagItem("server.address") == proxy.BaseAddress.Host && (int?)s.GetTagItem("server.port") == proxy.Port);
        Assert.Equal($"xrpc {XrpcClient.ListRepos}", span.DisplayName);
        Assert.Equal(XrpcClient.ListRepos, span.GetTagItem("rpc.method"));
        Assert.Equal(400, span.GetTagItem("http.response.status_code"));
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.Equal(2, span.GetTagItem("xrpc.attempts"));

        Assert.Contains(measurements, m => m.Instrument == "chive_xrpc_requests_total" && Equals(m.Tags["outcome"], "ServerError"));
        Assert.Contains(measurements, m => m.Instrument == "chive_xrpc_requests_total" && Equals(m.Tags["outcome"], "InvalidRequest"));
        Assert.Contains(measurements, m => m.Instrument == "chive_xrpc_errors_total" && Equals(m.Tags["outcome"], "InvalidRequest"));
    }
}
