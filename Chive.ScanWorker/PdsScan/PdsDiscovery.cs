using System.Globalization;
using System.Net;
using Chive.AtProto.Identity;
using Chive.AtProto.Net;
using Chive.AtProto.Xrpc;
using Microsoft.Extensions.Options;

namespace Chive.ScanWorker.PdsScan;

/// <summary>What one discovery run read and found, as the operation's metadata shows it.</summary>
public sealed record DiscoveryOutcome(int PlcOperations, int RelayHosts, IReadOnlyList<string> NewPdses, int Skipped, IReadOnlyList<string> Errors)
{
    public IReadOnlyDictionary<string, string> Details()
    {
        var details = new Dictionary<string, string>
        {
            ["discoveredPdses"] = NewPdses.Count.ToString(CultureInfo.InvariantCulture),
            ["plcOperationsRead"] = PlcOperations.ToString(CultureInfo.InvariantCulture),
            ["relayHostsRead"] = RelayHosts.ToString(CultureInfo.InvariantCulture),
            ["discoverySkipped"] = Skipped.ToString(CultureInfo.InvariantCulture),
        };
        if (Errors.Count > 0)
        {
            details["discoveryError"] = string.Join("; ", Errors);
        }

        return details;
    }
}

/// <summary>
/// Finds PDSes nobody has named: the PLC directory's export (the PDS each <c>did:plc</c> operation names) and, when
/// configured, a relay's <c>listHosts</c>. New ones enter the registry as <c>pending</c> with their source, so the scan
/// that ran discovery claims them like any due PDS. Each source's cursor is stored after every page: a run reads only
/// what is new, and one that stops half-way (a crash, a cap) resumes there. Everything read is untrusted: endpoints that
/// are not a bare http(s) origin, name a forbidden address literally, or are ignored hosts are skipped and counted; a
/// source that fails is reported in the outcome and the scan goes on without it.
/// </summary>
public sealed class PdsDiscovery(
    PdsRegistry registry, PlcExport plc, XrpcClient xrpc, SsrfGuard guard,
    IOptions<DiscoveryOptions> options, IOptions<IdentityOptions> identity, ILogger<PdsDiscovery> logger)
{
    public bool IsEnabled => options.Value.Plc || options.Value.RelayUrl is not null;

    /// <summary>
    /// One run over every configured source, each within <see cref="DiscoveryOptions.MaxTimePerSource"/>;
    /// <paramref name="pageRead"/> is told the outcome so far after every page (the scan reports it as progress, so the
    /// saga hears from a run that reads for minutes).
    /// </summary>
    public async Task<DiscoveryOutcome> DiscoverAsync(Func<DiscoveryOutcome, Task> pageRead, CancellationToken cancellationToken)
    {
        var run = new Run(pageRead);
        if (options.Value.Plc)
        {
            await ReadSourceAsync("the PLC directory", run, token => FromPlcAsync(run, token), cancellationToken);
        }

        if (options.Value.RelayUrl is { } relay)
        {
            await ReadSourceAsync("the relay", run, token => FromRelayAsync(relay, run, token), cancellationToken);
        }

        logger.LogInformation(
            "PDS discovery: {New} new PDSes from {Operations} PLC operations and {Hosts} relay hosts ({Skipped} skipped)",
            run.New.Count, run.PlcOperations, run.RelayHosts, run.Skipped);
        return run.Outcome();
    }

    /// <summary>
    /// Reads one source; what it reads before a failure or the end of its time is registered and its cursor stored,
    /// the rest waits for the next run. A failure is reported in the outcome (and logged), never thrown: the scan goes on
    /// with the PDSes it knows. The caller's cancellation still throws.
    /// </summary>
    private async Task ReadSourceAsync(string name, Run run, Func<CancellationToken, Task> read, CancellationToken cancellationToken)
    {
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(options.Value.MaxTimePerSource);
        run.Source = name;
        try
        {
            await read(budget.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogInformation("PDS discovery stopped reading {Source} after {Seconds} s (Discovery:MaxTimePerSource); the next run goes on from there",
                name, options.Value.MaxTimePerSource.TotalSeconds);
        }
        catch (Exception ex) when (ex is XrpcException or Npgsql.NpgsqlException or DiscoveryException)
        {
            logger.LogWarning("PDS discovery could not read {Source}: {Error}", name, ex.Message);
            run.Errors.Add($"{name}: {ex.Message}");
        }
    }

    private async Task FromPlcAsync(Run run, CancellationToken cancellationToken)
    {
        var source = "plc " + identity.Value.PlcDirectoryUrl.GetLeftPart(UriPartial.Authority).ToLowerInvariant();
        var cursor = await registry.GetDiscoveryCursorAsync(source, cancellationToken) is { } stored
            && DateTimeOffset.TryParse(stored, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
                ? at
                : options.Value.PlcStartAfter;
        for (var pages = 0; pages < options.Value.MaxPlcPagesPerRun; pages++)
        {
            // The directory's cursor is a time and its 'after' is strict: ask from a millisecond earlier, so operations
            // that share the last one's millisecond are not lost at a page boundary (those read twice change nothing).
            var page = await plc.ReadPageAsync(cursor?.AddMilliseconds(-1), cancellationToken);
            run.PlcOperations += page.Entries.Count;
            run.Skipped += page.Invalid;
            if (!await RegisterAsync(page.Entries.Where(e => !e.Nullified).Select(e => e.PdsEndpoint), null, DiscoverySource.PlcEnumeration, run, cancellationToken))
            {
                return; // the run's share of new PDSes is taken: this page is read again next time
            }

            if (page.Last is not { } last)
            {
                if (page.Lines >= PlcExport.PageSize)
                {
                    // A whole page and not one operation we could read: the cursor cannot move past it.
                    throw new DiscoveryException($"a page of {page.Lines} lines after {(cursor is { } from ? PlcExport.Format(from) : "the start")} held no operation we could read; discovery from the PLC is stuck there");
                }

                return; // nothing new
            }

            if (cursor is { } previous && last <= previous)
            {
                if (page.Lines < PlcExport.PageSize)
                {
                    return; // only the overlap: caught up
                }

                // A full page inside one millisecond: step past it (the rest of that millisecond is lost — said, not hidden).
                logger.LogWarning("PDS discovery: over {PageSize} PLC operations at {Time}; continuing after it", PlcExport.PageSize, PlcExport.Format(previous));
                last = previous.AddMilliseconds(1);
            }

            cursor = last;
            await registry.SetDiscoveryCursorAsync(source, PlcExport.Format(last), cancellationToken);
            await run.PageReadAsync();
            if (page.Lines < PlcExport.PageSize)
            {
                return; // the last page there is
            }
        }
    }

    private async Task FromRelayAsync(Uri relay, Run run, CancellationToken cancellationToken)
    {
        var source = "relay " + relay.GetLeftPart(UriPartial.Authority).ToLowerInvariant();
        var cursor = await registry.GetDiscoveryCursorAsync(source, cancellationToken);
        for (var pages = 0; pages < options.Value.MaxRelayPagesPerRun; pages++)
        {
            var page = await xrpc.ListHostsPageAsync(relay, cursor, cancellationToken: cancellationToken);
            run.RelayHosts += page.Hosts.Count;
            run.Skipped += page.InvalidEntries + page.Hosts.Count(h => h.Status is "offline" or "banned");
            var listed = page.Hosts.Where(h => h.Status is not ("offline" or "banned")).Select(h => h.Hostname);
            if (!await RegisterAsync(listed, options.Value.RelayHostScheme, DiscoverySource.RelayListhosts, run, cancellationToken))
            {
                return;
            }

            if (page.Cursor is null)
            {
                // The end of the list: the stored cursor stays where this page began, so the next run reads this last page
                // again (where new hosts appear) and nothing before it.
                return;
            }

            cursor = page.Cursor;
            await registry.SetDiscoveryCursorAsync(source, cursor, cancellationToken);
            await run.PageReadAsync();
        }
    }

    /// <summary>
    /// Registers the acceptable endpoints of one page, as many new ones as the run has room for. False when the room ran
    /// out (some of the page may be left unregistered): the caller then keeps its cursor before this page.
    /// </summary>
    private async Task<bool> RegisterAsync(IEnumerable<string?> endpoints, string? scheme, DiscoverySource source, Run run, CancellationToken cancellationToken)
    {
        var origins = new HashSet<string>(StringComparer.Ordinal);
        foreach (var endpoint in endpoints)
        {
            if (endpoint is null)
            {
                continue;
            }

            if (Accept(scheme is null ? endpoint : $"{scheme}://{endpoint}") is { } origin)
            {
                origins.Add(origin);
            }
            else
            {
                run.Skipped++;
            }
        }

        // Each source has its own share, so a PLC catching up on years of history never starves the relay.
        var room = options.Value.MaxNewPdsesPerRun - run.NewFromSource;
        var added = await registry.RegisterDiscoveredAsync(origins.Order(StringComparer.Ordinal).ToList(), source, room, cancellationToken);
        run.New.AddRange(added);
        run.NewFromSource += added.Count;
        return added.Count < room;
    }

    /// <summary>The origin to register, or null: not a bare http(s) origin, an address literal the guard forbids, an ignored host.</summary>
    private string? Accept(string endpoint)
    {
        if (endpoint.Length > 300 || !Uri.TryCreate(endpoint, UriKind.Absolute, out var uri)
            || SsrfGuard.SchemeRefusal(uri) is not null || !ServiceOrigin.TryNormalize(uri, out var origin)
            || options.Value.Ignores(uri.IdnHost)
            || (IPAddress.TryParse(uri.IdnHost, out var address) && guard.Refusal(address) is not null))
        {
            return null;
        }

        return origin;
    }

    private sealed class Run(Func<DiscoveryOutcome, Task> pageRead)
    {
        private string _source = "";

        /// <summary>The source being read; setting it starts that source's share of new PDSes.</summary>
        public string Source
        {
            get => _source;
            set
            {
                _source = value;
                NewFromSource = 0;
            }
        }

        public int NewFromSource { get; set; }

        public int PlcOperations { get; set; }

        public int RelayHosts { get; set; }

        public int Skipped { get; set; }

        public List<string> New { get; } = [];

        public List<string> Errors { get; } = [];

        public DiscoveryOutcome Outcome() => new(PlcOperations, RelayHosts, [.. New], Skipped, [.. Errors]);

        public Task PageReadAsync() => pageRead(Outcome());
    }
}

/// <summary>A source that answers but cannot be read further (its cursor cannot move).</summary>
public sealed class DiscoveryException(string message) : Exception(message);
