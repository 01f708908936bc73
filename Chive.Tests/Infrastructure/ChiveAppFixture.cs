using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Chive.ServiceDefaults;
using Chive.Testing.Doubles;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Chive.Tests.Infrastructure;

/// <summary>
/// The whole AppHost, started once per test collection through Aspire.Hosting.Testing in external-services mode,
/// against the real PostgreSQL, Redis and RabbitMQ servers (each behind a <see cref="TcpProxy"/>, so a test can take
/// one down for the services) and the Elasticsearch and GROBID doubles. Each fixture gets a fresh database.
/// </summary>
public sealed class ChiveAppFixture : IAsyncLifetime
{
    public static readonly string[] Services =
        [ResourceNames.AdminApi, ResourceNames.ScanWorker, ResourceNames.CitationWorker, ResourceNames.IndexWorker];

    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);

    public DistributedApplication App { get; private set; } = null!;

    public string DatabaseName { get; private set; } = null!;

    public TcpProxy Postgres { get; private set; } = null!;

    public TcpProxy Redis { get; private set; } = null!;

    public TcpProxy RabbitMq { get; private set; } = null!;

    public TcpProxy Elasticsearch { get; private set; } = null!;

    public TcpProxy Grobid { get; private set; } = null!;

    public ElasticsearchDouble ElasticsearchServer { get; private set; } = null!;

    public GrobidDouble GrobidServer { get; private set; } = null!;

    public SemanticScholarDouble SemanticScholar { get; private set; } = null!;

    public CrossrefDouble Crossref { get; private set; } = null!;

    /// <summary>The Semantic Scholar key the AppHost hands the CitationWorker (its parameter); the double requires it.</summary>
    public const string SemanticScholarKey = "test-s2-key";

    /// <summary>The pace the CitationWorker is configured for, and that the Semantic Scholar double enforces.</summary>
    public const double SemanticScholarRate = 10;

    /// <summary>Settings of the CitationWorker that replace the tests' (for the benchmark).</summary>
    public Dictionary<string, string>? CitationWorkerSettings { get; init; }

    /// <summary>
    /// Settings of the ScanWorker that replace the tests' (for the benchmarks: larger caps and units, a proxy in front of
    /// the PLC directory), made once the atproto network runs.
    /// </summary>
    public Func<AtprotoTestNetwork, Task<Dictionary<string, string>>>? ScanWorkerSettings { get; init; }

    /// <summary>How the ScanWorker reads repos (<c>Sync:Mode</c>): <c>Verified</c>, the default, or <c>Listing</c>.</summary>
    public string SyncMode { get; init; } = "Verified";

    public bool Verified => SyncMode == "Verified";

    /// <summary>The XRPC method by which the ScanWorker reads a repo's records in this fixture's mode.</summary>
    public string RepoReadMethod => Verified ? "com.atproto.sync.getRepo" : "com.atproto.repo.listRecords";

    /// <summary>The latest state of every resource instance (each replica is one), as the orchestrator reports it.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, ResourceEvent> _instances = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopWatching = new();
    private Task? _watching;

    /// <summary>Replicas per worker (AppHost settings <c>Replicas:ScanWorker</c>, <c>Replicas:IndexWorker</c>); one each if unset.</summary>
    public Dictionary<string, int> Replicas { get; init; } = [];

    /// <summary>Settings given to every service over the tests' (for the benchmarks: log levels, a time breakdown).</summary>
    public Dictionary<string, string>? ServiceSettings { get; init; }

    /// <summary>
    /// Whether the services reach PostgreSQL, Redis, RabbitMQ and Elasticsearch through this process's TCP proxies (the
    /// tests cut them there) — true for the tests. The benchmarks connect them directly: every byte of every batch passed
    /// through the proxies twice, and the proxies were the busiest program on the machine during a scan.
    /// </summary>
    public bool ProxyServers { get; init; } = true;

    /// <summary>Where the services' logs of this fixture go.</summary>
    public FileLoggerProvider? LogFile { get; private set; }

    public string DatabaseConnectionString => TestServers.PostgresConnectionString(DatabaseName);

    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(StartTimeout);
        ElasticsearchServer = await ElasticsearchDouble.StartNewAsync();
        GrobidServer = await GrobidDouble.StartNewAsync();
        SemanticScholar = await SemanticScholarDouble.StartNewAsync();
        SemanticScholar.RatePerSecond = SemanticScholarRate;
        SemanticScholar.RequiredApiKey = SemanticScholarKey;
        Crossref = await CrossrefDouble.StartNewAsync();
        DatabaseName = await TestServers.CreateDatabaseAsync("chive_app");

        Network = await AtprotoTestNetwork.StartAsync();
        GovernancePds = await HttpFaultProxy.StartNewAsync(Network.PdsUrls[0]);
        Governance = (await Network.SeedAsync(0, new SeedAccount("governance.test", [])))[0];

        Postgres = Proxy("postgres");
        Redis = Proxy("redis");
        RabbitMq = Proxy("rabbitmq");
        Elasticsearch = RealElasticsearch is { } real
            ? TcpProxy.Start(real.Host, real.Port)
            : TcpProxy.Start("127.0.0.1", ElasticsearchServer.Port);
        Grobid = TcpProxy.Start("127.0.0.1", GrobidServer.Port);

        int Port(TcpProxy proxy, string server) => ProxyServers ? proxy.Port : TestServers.Endpoint(server).Port;
        var rabbit = new UriBuilder(TestServers.RabbitMq) { Host = "127.0.0.1", Port = Port(RabbitMq, "rabbitmq") };
        var search = ProxyServers ? $"http://127.0.0.1:{Elasticsearch.Port}" : (RealElasticsearch ?? ElasticsearchServer.BaseAddress).ToString().TrimEnd('/');
        string[] args =
        [
            "UseExternalServices=true",
            $"ConnectionStrings:{ResourceNames.Redis}=127.0.0.1:{Port(Redis, "redis")}",
            $"ConnectionStrings:{ResourceNames.Database}={TestServers.PostgresConnectionString(DatabaseName, "127.0.0.1", Port(Postgres, "postgres"))}",
            $"ConnectionStrings:{ResourceNames.RabbitMq}={rabbit.Uri}",
            $"ConnectionStrings:{ResourceNames.Elasticsearch}={search}",
            $"ConnectionStrings:{ResourceNames.Grobid}=http://127.0.0.1:{Grobid.Port}",
            $"Parameters:semantic-scholar-api-key={SemanticScholarKey}",
            "Parameters:crossref-mailto=tests@chive.test",
            .. Replicas.Select(r => $"Replicas:{r.Key}={r.Value}"),
        ];

        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Chive_AppHost>(args, timeout.Token);
        // The services' output (and the AppHost's) goes to a file under .test-state/logs; the console keeps warnings
        // of the test host itself.
        LogFile = new FileLoggerProvider("app");
        builder.Services.AddLogging(logging => logging
            .ClearProviders()
            .AddProvider(LogFile)
            .SetMinimumLevel(LogLevel.Information));
        AdminDidsFile = Path.Combine(Path.GetTempPath(), $"chive-admin-dids-{Guid.NewGuid():N}.json");
        await SetAdminDidsAsync();
        Configure(builder, ResourceNames.AdminApi, Merge(new()
        {
            ["Admin__ServiceDid"] = ServiceDid,
            ["Admin__DidsFile"] = AdminDidsFile,
            ["Admin__ClockSkew"] = "00:00:01",
            ["Admin__ApiKeys__0__Label"] = AdminKeyLabel,
            ["Admin__ApiKeys__0__Sha256"] = Chive.AdminApi.Auth.ApiKeyAuthenticator.Hash(AdminKey),
            ["AdminPage__PollInterval"] = "00:00:00.500",
            ["AtProto__Ssrf__AllowedNetworks__0"] = "127.0.0.0/8",
            ["AtProto__Ssrf__AllowedHosts__0"] = "localhost",
            // A start lost between the saga's save and its send is sent again after a few seconds here (2 min by default).
            ["Operations__StartResendAfter"] = "00:00:04",
            ["Operations__WatchInterval"] = "00:00:01",
            // No scheduled PDS scan: a scan nobody asked for would claim the PDSes the tests scan (DiscoveryTests turns it on).
            ["Operations__PdsScanInterval"] = "00:00:00",
        }, AtProtoClientSettings()));
        Configure(builder, ResourceNames.ScanWorker, Merge(new()
        {
            ["Governance__PdsUrl"] = GovernancePds.BaseAddress.ToString(),
            ["Governance__Did"] = Governance.Did,
            ["PdsScan__ReposPerChunk"] = "2",
            // Batches of 200 records, not the shipped 1,000: the worlds here hold a few hundred records a scan, and their
            // tests want scans of several batches (one indexed while more are to come, a repo's revision waiting for them).
            ["PdsScan__RecordsPerBatch"] = "200",
            // Caps low enough for a hostile PDS's endless listings to end quickly, high enough for every honest PDS here.
            ["PdsScan__MaxPagesPerPds"] = "400",
            ["PdsScan__MaxReposPerPds"] = "200",
            ["PdsScan__MaxRecordsPerPds"] = "20000",
            ["PdsScan__MaxRecordBytes"] = "1048576",
            ["Freshness__ReposPerChunk"] = "2",
            ["Sync__Mode"] = SyncMode,
            // No discovery: the PLC names the PDS directly, while the tests register it behind fault proxies.
            ["Discovery__Plc"] = "false",
        }, AtProtoClientSettings(), ScanWorkerSettings is null ? [] : await ScanWorkerSettings(Network)));
        Configure(builder, ResourceNames.CitationWorker, Merge(new()
        {
            ["Citations__EprintsPerChunk"] = "3",
            ["Citations__ProgressEvery"] = "2",
            ["Citations__Grobid__Concurrency"] = "2",
            ["Citations__Grobid__BusyRetryDelay"] = "00:00:00.200",
            ["Citations__Grobid__DocumentTimeout"] = "00:00:10",
            ["Citations__SemanticScholar__BaseUrl"] = new Uri(SemanticScholar.BaseAddress, "graph/v1/").ToString(),
            ["Citations__SemanticScholar__RequestsPerSecond"] = SemanticScholarRate.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Citations__SemanticScholar__PageSize"] = "2",
            ["Citations__Crossref__BaseUrl"] = Crossref.BaseAddress.ToString(),
        }, AtProtoClientSettings(), CitationWorkerSettings ?? []));
        foreach (var service in Services)
        {
            // No OTLP export: the tests run no dashboard, and an exporter retrying against an endpoint nothing serves
            // took a sixth of the workers' thread time in a profile (the benchmarks would measure it).
            Configure(builder, service, new() { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "" });
            Configure(builder, service, ServiceSettings ?? []);
        }

        App = await builder.BuildAsync(timeout.Token);
        _watching = Task.Run(async () =>
        {
            await foreach (var update in App.ResourceNotifications.WatchAsync(_stopWatching.Token))
            {
                _instances[update.ResourceId] = update;
            }
        });
        await App.StartAsync(timeout.Token);
        await Task.WhenAll(Services.Select(s => App.ResourceNotifications.WaitForResourceHealthyAsync(s, timeout.Token)));
        foreach (var (worker, count) in Replicas)
        {
            await WaitForReplicasAsync(ReplicaResource(worker), count, timeout.Token);
        }
    }

    private static string ReplicaResource(string worker) => worker switch
    {
        "ScanWorker" => ResourceNames.ScanWorker,
        "IndexWorker" => ResourceNames.IndexWorker,
        _ => throw new ArgumentException($"no worker {worker} takes replicas"),
    };

    /// <summary>
    /// Waits until <paramref name="count"/> instances of <paramref name="resource"/> run and are healthy, and none is
    /// anything else (the orchestrator's latest word on each, kept by the watcher started with the app).
    /// </summary>
    private async Task WaitForReplicasAsync(string resource, int count, CancellationToken cancellationToken)
    {
        bool Ready(ResourceEvent u) => u.Snapshot.State?.Text == KnownResourceStates.Running
            && u.Snapshot.HealthStatus == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy;
        while (_instances.Values.Where(u => u.Resource.Name == resource) is var instances
            && (instances.Count(Ready) < count || !instances.All(Ready)))
        {
            await Task.Delay(200, cancellationToken);
        }
    }

    /// <summary>A real Elasticsearch to run against instead of the double (<c>CHIVE_TEST_ELASTICSEARCH_URL</c>), or null.</summary>
    public static Uri? RealElasticsearch =>
        Environment.GetEnvironmentVariable("CHIVE_TEST_ELASTICSEARCH_URL") is { Length: > 0 } url ? new Uri(url) : null;

    /// <summary>
    /// The search documents whose id (AT-URI) starts with <paramref name="uriPrefix"/>, read through Elasticsearch's
    /// own API (refresh, then a prefix query on the keyword field <c>uri</c>), so the same assertion holds for the
    /// double and for a real cluster. Id → source.
    /// </summary>
    public async Task<Dictionary<string, JsonObject>> SearchDocumentsAsync(string uriPrefix, string index = Chive.IndexWorker.Search.SearchWriter.Alias) =>
        (await SearchHitsAsync(uriPrefix, index)).ToDictionary(h => h["_id"]!.GetValue<string>(), h => h["_source"]!.AsObject(), StringComparer.Ordinal);

    /// <summary>How many times each search document under <paramref name="uriPrefix"/> was written (its <c>_version</c>).</summary>
    public async Task<Dictionary<string, long>> SearchVersionsAsync(string uriPrefix) =>
        (await SearchHitsAsync(uriPrefix, Chive.IndexWorker.Search.SearchWriter.Alias))
            .ToDictionary(h => h["_id"]!.GetValue<string>(), h => h["_version"]!.GetValue<long>(), StringComparer.Ordinal);

    private async Task<List<JsonObject>> SearchHitsAsync(string uriPrefix, string index)
    {
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Elasticsearch.Port}") };
        (await client.PostAsync($"/{index}/_refresh", null)).EnsureSuccessStatusCode();
        using var response = await client.PostAsJsonAsync($"/{index}/_search", new JsonObject
        {
            ["size"] = 10_000,
            ["version"] = true,
            ["query"] = new JsonObject { ["prefix"] = new JsonObject { ["uri"] = new JsonObject { ["value"] = uriPrefix } } },
        });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"_search answered {(int)response.StatusCode}: {body}");
        return JsonNode.Parse(body)!["hits"]!["hits"]!.AsArray().Select(h => h!.AsObject()).ToList();
    }

    /// <summary>The index the <c>eprints</c> alias points at (null when there is no alias), through Elasticsearch's API.</summary>
    public async Task<string?> AliasTargetAsync()
    {
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Elasticsearch.Port}") };
        using var response = await client.GetAsync($"/_alias/{Chive.IndexWorker.Search.SearchWriter.Alias}");
        return response.StatusCode == System.Net.HttpStatusCode.NotFound
            ? null
            : JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject().Select(p => p.Key).Single();
    }

    public async Task<bool> IndexExistsAsync(string index)
    {
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Elasticsearch.Port}") };
        using var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/" + index));
        return response.IsSuccessStatusCode;
    }

    /// <summary>The AdminApi's own DID: the <c>aud</c> of the service-auth tokens it accepts.</summary>
    public const string ServiceDid = "did:web:backfill.chive.test";

    /// <summary>The watched file that holds <c>Admin:AdminDids</c> (changed by tests while the system runs).</summary>
    public string AdminDidsFile { get; private set; } = null!;

    /// <summary>Makes exactly <paramref name="dids"/> the administrators (the AdminApi picks the file up by itself).</summary>
    public Task SetAdminDidsAsync(params string[] dids) => File.WriteAllTextAsync(AdminDidsFile,
        new JsonObject { ["Admin"] = new JsonObject { ["AdminDids"] = new JsonArray(dids.Select(d => (JsonNode)d).ToArray()) } }.ToJsonString());

    public const string AdminKey = "test-operator-key";
    public const string AdminKeyLabel = "test-operator";

    /// <summary>The real atproto network: its PDS holds the governance repo (behind <see cref="GovernancePds"/>).</summary>
    public AtprotoTestNetwork Network { get; private set; } = null!;

    /// <summary>The fault proxy the ScanWorker reads the governance repo through.</summary>
    public HttpFaultProxy GovernancePds { get; private set; } = null!;

    public SeededAccount Governance { get; private set; } = null!;

    public HttpClient CreateClient(string service) => App.CreateHttpClient(service, "http");

    /// <summary>A client of the AdminApi that signs in with the test operator key.</summary>
    public HttpClient CreateAdminClient()
    {
        var client = CreateClient(ResourceNames.AdminApi);
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminKey);
        return client;
    }

    /// <summary>The PDS registry of the fixture's database (for assertions).</summary>
    public Chive.ScanWorker.PdsScan.PdsRegistry Registry() => new(
        _registryDb ??= Npgsql.NpgsqlDataSource.Create(DatabaseConnectionString),
        Microsoft.Extensions.Options.Options.Create(new Chive.ScanWorker.PdsScan.PdsRegistryOptions()));

    private Npgsql.NpgsqlDataSource? _registryDb;

    /// <summary>The operation store the AdminApi uses (the same Redis, the default key prefix), to read or plant operations.</summary>
    public async Task<Chive.AdminApi.Operations.OperationStore> OperationStoreAsync()
    {
        _redis ??= await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(TestServers.Redis);
        return new Chive.AdminApi.Operations.OperationStore(_redis, Microsoft.Extensions.Options.Options.Create(new Chive.AdminApi.Operations.OperationsOptions()));
    }

    private StackExchange.Redis.ConnectionMultiplexer? _redis;

    /// <summary>
    /// Publishes <paramref name="message"/> on the system's broker, as a duplicate or redelivered message would arrive
    /// (a bus of the test's own; each publish has a new message id).
    /// </summary>
    public async Task PublishAsync<T>(T message) where T : class
    {
        var bus = MassTransit.Bus.Factory.CreateUsingRabbitMq(rabbit => rabbit.Host(new Uri(TestServers.RabbitMq)));
        await bus.StartAsync(TimeSpan.FromSeconds(30));
        try
        {
            await bus.Publish(message);
        }
        finally
        {
            await bus.StopAsync(TimeSpan.FromSeconds(30));
        }
    }

    /// <summary>
    /// The last line of <paramref name="resource"/>'s replicas containing <paramref name="text"/>, which must end
    /// "in process &lt;pid&gt;" (the services' own Debug lines of a unit's start): that process and the line's text up
    /// to it; null if none.
    /// </summary>
    public (int ProcessId, string Message)? LastLogged(string resource, string text) =>
        LogLines(resource, text).Select(Parse).LastOrDefault() is { ProcessId: > 0 } last ? last : null;

    /// <summary>The processes of <paramref name="resource"/> that logged a line containing <paramref name="text"/>.</summary>
    public HashSet<int> ProcessesThatLogged(string resource, string text) =>
        LogLines(resource, text).Select(line => Parse(line).ProcessId).Where(pid => pid > 0).ToHashSet();

    /// <summary>
    /// <see cref="LastLogged"/> once it has stayed the same for a second (the work it names is held still), at most 20 s.
    /// </summary>
    public async Task<(int ProcessId, string Message)> SettledLastLoggedAsync(string resource, string text)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        (int, string)? last = null;
        var since = DateTime.UtcNow;
        while (true)
        {
            await Task.Delay(250);
            var now = LastLogged(resource, text);
            if (now != last)
            {
                (last, since) = (now, DateTime.UtcNow);
            }
            else if (now is { } settled && DateTime.UtcNow - since >= TimeSpan.FromSeconds(1))
            {
                return settled;
            }

            Assert.True(DateTime.UtcNow < deadline, $"no settled line containing '{text}'");
        }
    }

    /// <summary>The shipped <c>PdsScan:RecordsPerBatch</c>, for the benchmarks (the tests run with 200).</summary>
    public static string ShippedRecordsPerBatch =>
        new Chive.ScanWorker.PdsScan.PdsScanOptions().RecordsPerBatch.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>How many lines of <paramref name="resource"/>'s replicas contain <paramref name="text"/>.</summary>
    public int LogLinesContaining(string resource, string text) => LogLines(resource, text).Count;

    private static (int ProcessId, string Message) Parse(string line)
    {
        const string marker = " in process ";
        var at = line.LastIndexOf(marker, StringComparison.Ordinal);
        var stamp = line.IndexOf("Z ", StringComparison.Ordinal);
        return at < 0 || stamp < 0 || !int.TryParse(line[(at + marker.Length)..].Trim(), out var pid)
            ? (0, line)
            : (pid, line[(stamp + 2)..at].Trim());
    }

    private List<string> LogLines(string resource, string text)
    {
        using var stream = new FileStream(LogFile!.FilePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var lines = new List<string>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Contains($" Chive.AppHost.Resources.{resource}:", StringComparison.Ordinal) && line.Contains(text, StringComparison.Ordinal))
            {
                lines.Add(line);
            }
        }

        return lines;
    }

    /// <summary>
    /// Starts again the replica of <paramref name="resource"/> that was killed (the orchestrator sees it stopped within
    /// a few seconds) and waits until it is healthy, so the next test has every replica again.
    /// </summary>
    public async Task RestartKilledReplicaAsync(string resource)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(40));
        string? stopped = null;
        while (stopped is null)
        {
            stopped = _instances.Values.FirstOrDefault(u => u.Resource.Name == resource && u.Snapshot.State?.Text != KnownResourceStates.Running)?.ResourceId;
            await Task.Delay(stopped is null ? 200 : 0, timeout.Token);
        }

        var commands = App.Services.GetRequiredService<ResourceCommandService>();
        var result = await commands.ExecuteCommandAsync(stopped, KnownResourceCommands.StartCommand, timeout.Token);
        for (var attempt = 0; !result.Success && attempt < 60; attempt++)
        {
            await Task.Delay(500, timeout.Token);
            result = await commands.ExecuteCommandAsync(stopped, KnownResourceCommands.StartCommand, timeout.Token);
        }

        Assert.True(result.Success, result.Message);
        await WaitForReplicasAsync(resource, Replicas[resource == ResourceNames.ScanWorker ? "ScanWorker" : "IndexWorker"], timeout.Token);
    }

    /// <summary>SIGKILLs one process of a service (its whole tree): the unit it holds is never acknowledged.</summary>
    public static async Task KillProcessAsync(int processId)
    {
        using var process = System.Diagnostics.Process.GetProcessById(processId);
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
    }

    /// <summary>SIGKILLs every process of a service (no graceful stop: the message in flight is never acknowledged).</summary>
    public static async Task KillAsync(string processName)
    {
        var killed = 0;
        foreach (var process in System.Diagnostics.Process.GetProcessesByName(processName))
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            killed++;
        }

        Assert.True(killed > 0, $"no {processName} process to kill");
    }

    /// <summary>Starts a stopped (or killed) service through the AppHost and waits until it is healthy.</summary>
    public async Task StartServiceAsync(string resource)
    {
        var commands = App.Services.GetRequiredService<ResourceCommandService>();
        using var restart = new CancellationTokenSource(StartTimeout);
        // Right after a SIGKILL the orchestrator may not have seen the process exit yet, and refuses to start a resource
        // it still thinks is running: ask again until it agrees.
        // And the killed process's exit, reported late, can land on the new start as "failed to start": start it again.
        for (var start = 1; ; start++)
        {
            var result = await commands.ExecuteCommandAsync(resource, KnownResourceCommands.StartCommand, restart.Token);
            for (var attempt = 0; !result.Success && attempt < 60; attempt++)
            {
                await Task.Delay(500, restart.Token);
                result = await commands.ExecuteCommandAsync(resource, KnownResourceCommands.StartCommand, restart.Token);
            }

            Assert.True(result.Success, result.Message);
            try
            {
                await App.ResourceNotifications.WaitForResourceHealthyAsync(resource, restart.Token);
                return;
            }
            catch (DistributedApplicationException) when (start < 3)
            {
                await Task.Delay(1000, restart.Token);
            }
        }
    }

    /// <summary>The workers' settings, then each dictionary of <paramref name="layers"/> over them in turn.</summary>
    private static Dictionary<string, string> Merge(Dictionary<string, string> settings, params Dictionary<string, string>[] layers)
    {
        foreach (var (name, value) in layers.SelectMany(l => l))
        {
            settings[name] = value;
        }

        return settings;
    }

    /// <summary>
    /// The AT Protocol client as the two workers that read PDSes need it here: loopback allowed past the SSRF guard, the
    /// test network's PLC, did:web over http, a pace no test waits on, short timeouts.
    /// </summary>
    private Dictionary<string, string> AtProtoClientSettings() => new()
    {
        ["AtProto__Ssrf__AllowedNetworks__0"] = "127.0.0.0/8",
        ["AtProto__Ssrf__AllowedHosts__0"] = "localhost",
        ["AtProto__Xrpc__RequestsPerSecondPerHost"] = "200",
        ["AtProto__Xrpc__BurstPerHost"] = "50",
        ["AtProto__Xrpc__RequestTimeout"] = "00:00:05",
        ["AtProto__Identity__PlcDirectoryUrl"] = Network.PlcUrl.ToString(),
        ["AtProto__Identity__DidWebScheme"] = "http",
        ["AtProto__Identity__FailureCacheTtl"] = "00:00:01",
    };

    private static void Configure(IDistributedApplicationTestingBuilder builder, string project, Dictionary<string, string> environment)
    {
        var resource = builder.Resources.OfType<ProjectResource>().Single(r => r.Name == project);
        var resourceBuilder = builder.CreateResourceBuilder(resource);
        foreach (var (name, value) in environment)
        {
            resourceBuilder.WithEnvironment(name, value);
        }
    }

    public async Task DisposeAsync()
    {
        await _stopWatching.CancelAsync();
        if (_watching is not null)
        {
            await _watching.ContinueWith(_ => { }, TaskScheduler.Default);
        }

        if (App is not null)
        {
            await App.DisposeAsync();
        }

        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }

        LogFile?.Dispose();
        if (AdminDidsFile is not null)
        {
            File.Delete(AdminDidsFile);
        }

        if (_registryDb is not null)
        {
            await _registryDb.DisposeAsync();
        }

        foreach (var disposable in new IAsyncDisposable?[] { GovernancePds, Network, Postgres, Redis, RabbitMq, Elasticsearch, Grobid, ElasticsearchServer, GrobidServer, SemanticScholar, Crossref })
        {
            if (disposable is not null)
            {
                await disposable.DisposeAsync();
            }
        }
    }

    private static TcpProxy Proxy(string server)
    {
        var (host, port) = TestServers.Endpoint(server);
        return TcpProxy.Start(host, port);
    }
}

[CollectionDefinition(Name)]
public sealed class ChiveAppCollection : ICollectionFixture<ChiveAppFixture>
{
    public const string Name = "Chive app";
}
