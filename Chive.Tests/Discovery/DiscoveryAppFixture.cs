using System.Text.Json.Nodes;
using Chive.Testing.Doubles;
using Chive.Tests.Infrastructure;

namespace Chive.Tests.Discovery;

/// <summary>
/// The whole system with discovery on and the PDS scan scheduled every 2 s (<c>Operations:PdsScanInterval</c>): its own
/// AppHost, database and atproto network, so nothing but the schedule starts PDS scans here. Discovery reads the test
/// network's real PLC directory and a relay double whose host list mixes one honest host with hostile entries. The
/// services export over OTLP (HTTP, every second) to a receiver double, as they do to the Aspire dashboard.
/// </summary>
public sealed class DiscoveryAppFixture : IAsyncLifetime
{
    /// <summary>The honest host the relay lists: an address nothing listens on (its scans fail fast, and are charged).</summary>
    public const string RelayListedHost = "127.0.0.2:9";

    public DiscoveryAppFixture() => App = new ChiveAppFixture
    {
        ServiceSettings = new()
        {
            ["Operations__PdsScanInterval"] = "00:00:02",
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000",
        },
        ScanWorkerSettings = async _ =>
        {
            Relay = await RelayDouble.StartNewAsync();
            Relay.Hosts.AddRange(
            [
                new JsonObject { ["hostname"] = "10.1.2.3", ["seq"] = 1, ["status"] = "active" },           // a private address
                new JsonObject { ["hostname"] = "pds-7.us-east.host.bsky.network", ["status"] = "active" }, // ignored by default
                new JsonObject { ["hostname"] = "", ["status"] = "active" },
                new JsonObject { ["hostname"] = 5 },
                new JsonObject { ["hostname"] = "evil.example/xrpc?x=1", ["status"] = "active" },          // not an origin
                new JsonObject { ["hostname"] = "banned.example", ["status"] = "banned" },
                new JsonObject { ["hostname"] = RelayListedHost, ["seq"] = 7, ["accountCount"] = 3, ["status"] = "active" },
            ]);
            return new()
            {
                ["Discovery__Plc"] = "true",
                ["Discovery__RelayUrl"] = Relay.BaseAddress.ToString(),
                ["Discovery__RelayHostScheme"] = "http",
            };
        },
    };

    public ChiveAppFixture App { get; }

    public RelayDouble Relay { get; private set; } = null!;

    public OtlpReceiverDouble Otlp { get; private set; } = null!;

    /// <summary>
    /// When this app started: the Redis history is shared with the fixtures that ran before (same key prefix), so an
    /// operation of this app is one that started after this.
    /// </summary>
    public DateTimeOffset StartedAt { get; private set; }

    public async Task InitializeAsync()
    {
        StartedAt = DateTimeOffset.UtcNow;
        Otlp = await OtlpReceiverDouble.StartNewAsync(); // before the app: its address is a setting of every service
        App.ServiceSettings!["OTEL_EXPORTER_OTLP_ENDPOINT"] = Otlp.BaseAddress.ToString().TrimEnd('/');
        await App.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await App.DisposeAsync();
        await Relay.DisposeAsync();
        await Otlp.DisposeAsync();
    }
}

/// <summary>Runs alone, like every AppHost fixture but the main one.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DiscoveryAppCollection : ICollectionFixture<DiscoveryAppFixture>
{
    public const string Name = "Chive app, discovery and schedule";
}
