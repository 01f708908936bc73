using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Chive.AtProto.Identifiers;

namespace Chive.AtProto.Xrpc;

/// <summary>
/// The read-only XRPC methods Chive needs from PDSes. Read-only by construction: every call is a query (HTTP GET)
/// through <see cref="PoliteHttp"/>; there is no procedure call at all.
/// </summary>
public sealed class XrpcClient(PoliteHttp http)
{
    public const string ListRepos = "com.atproto.sync.listRepos";
    public const string DescribeRepo = "com.atproto.repo.describeRepo";
    public const string ListRecords = "com.atproto.repo.listRecords";
    public const string GetRecord = "com.atproto.repo.getRecord";
    public const string GetBlob = "com.atproto.sync.getBlob";
    public const string GetRepo = "com.atproto.sync.getRepo";
    public const string GetLatestCommit = "com.atproto.sync.getLatestCommit";
    public const string ListHosts = "com.atproto.sync.listHosts";

    public async Task<ListReposPage> ListReposPageAsync(Uri service, string? cursor = null, int limit = 500, CancellationToken cancellationToken = default)
    {
        using var json = await QueryJsonAsync(service, ListRepos, [("limit", Math.Clamp(limit, 1, 1000)), ("cursor", cursor)], cancellationToken);
        var root = json.RootElement;
        var repos = new List<RepoEntry>();
        var invalid = 0;
        foreach (var repo in Array(root, "repos", ListRepos, service))
        {
            if (!Did.TryParse(String(repo, "did"), out var did))
            {
                invalid++;
                continue;
            }

            var active = !repo.TryGetProperty("active", out var a) || a.ValueKind != JsonValueKind.False;
            repos.Add(new RepoEntry(did, String(repo, "head"), String(repo, "rev"), active, String(repo, "status")));
        }

        return new ListReposPage(repos, NonEmpty(String(root, "cursor")), invalid);
    }

    /// <summary>One page of the hosts a relay knows (<c>com.atproto.sync.listHosts</c>); entries without a hostname are counted, not kept.</summary>
    public async Task<ListHostsPage> ListHostsPageAsync(Uri relay, string? cursor = null, int limit = 1000, CancellationToken cancellationToken = default)
    {
        using var json = await QueryJsonAsync(relay, ListHosts, [("limit", Math.Clamp(limit, 1, 1000)), ("cursor", cursor)], cancellationToken);
        var root = json.RootElement;
        var hosts = new List<RelayHost>();
        var invalid = 0;
        foreach (var host in Array(root, "hosts", ListHosts, relay))
        {
            if (String(host, "hostname") is { Length: > 0 and <= 300 } hostname)
            {
                hosts.Add(new RelayHost(hostname, String(host, "status")));
            }
            else
            {
                invalid++;
            }
        }

        var next = NonEmpty(String(root, "cursor"));
        return new ListHostsPage(hosts, next is not null && next == cursor ? throw Malformed(ListHosts, relay, $"the server returned the same cursor '{next}' twice") : next, invalid);
    }

    /// <summary>Every repo of the PDS, page after page, until the PDS returns no cursor (or an empty page).</summary>
    public async IAsyncEnumerable<RepoEntry> ListAllReposAsync(Uri service, int pageSize = 500, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? cursor = null;
        do
        {
            var page = await ListReposPageAsync(service, cursor, pageSize, cancellationToken);
            foreach (var repo in page.Repos)
            {
                yield return repo;
            }

            cursor = NextCursor(cursor, page.Cursor, page.Repos.Count + page.InvalidEntries, ListRepos, service);
        }
        while (cursor is not null);
    }

    public async Task<RepoDescription> DescribeRepoAsync(Uri service, Did repo, CancellationToken cancellationToken = default)
    {
        using var json = await QueryJsonAsync(service, DescribeRepo, [("repo", repo.Value)], cancellationToken);
        var root = json.RootElement;
        if (String(root, "did") is { } answered && answered != repo.Value)
        {
            throw Malformed(DescribeRepo, service, $"asked to describe {repo}, it described {PoliteHttp.ServerText(answered)}");
        }

        var collections = new List<Nsid>();
        foreach (var c in Array(root, "collections", DescribeRepo, service))
        {
            if (c.ValueKind == JsonValueKind.String && Nsid.TryParse(c.GetString(), out var nsid))
            {
                collections.Add(nsid);
            }
        }

        var handleIsCorrect = root.TryGetProperty("handleIsCorrect", out var h) && h.ValueKind == JsonValueKind.True;
        JsonElement? didDoc = root.TryGetProperty("didDoc", out var d) ? d.Clone() : null;
        return new RepoDescription(repo, String(root, "handle"), handleIsCorrect, collections, didDoc);
    }

    public async Task<ListRecordsPage> ListRecordsPageAsync(
        Uri service, Did repo, Nsid collection, string? cursor = null, int limit = 100, CancellationToken cancellationToken = default)
    {
        using var json = await QueryJsonAsync(
            service, ListRecords, [("repo", repo.Value), ("collection", collection.Value), ("limit", Math.Clamp(limit, 1, 100)), ("cursor", cursor)], cancellationToken);
        var root = json.RootElement;
        var records = new List<RecordEntry>();
        int invalid = 0, foreign = 0;
        foreach (var record in Array(root, "records", ListRecords, service))
        {
            if (ToRecord(record) is not { } entry)
            {
                invalid++;
            }
            else if (entry.Uri.Repo != repo || entry.Uri.Collection != collection)
            {
                // A record of another repo or collection than the one asked for: never believed, whoever it names.
                foreign++;
            }
            else
            {
                records.Add(entry);
            }
        }

        return new ListRecordsPage(records, NonEmpty(String(root, "cursor")), invalid, foreign);
    }

    /// <summary>Every record of one collection of one repo, streamed page by page (pages of up to 100).</summary>
    public async IAsyncEnumerable<RecordEntry> ListAllRecordsAsync(
        Uri service, Did repo, Nsid collection, int pageSize = 100, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? cursor = null;
        do
        {
            var page = await ListRecordsPageAsync(service, repo, collection, cursor, pageSize, cancellationToken);
            foreach (var record in page.Records)
            {
                yield return record;
            }

            cursor = NextCursor(cursor, page.Cursor, page.Records.Count + page.InvalidEntries + page.ForeignEntries, ListRecords, service);
        }
        while (cursor is not null);
    }

    public async Task<RecordEntry> GetRecordAsync(Uri service, AtUri uri, CancellationToken cancellationToken = default)
    {
        using var json = await QueryJsonAsync(
            service, GetRecord, [("repo", uri.Repo.Value), ("collection", uri.Collection.Value), ("rkey", uri.RecordKey.Value)], cancellationToken);
        return ToRecord(json.RootElement) is { } record && record.Uri == uri
            ? record
            : throw Malformed(GetRecord, service, $"the answer is not the record {uri}");
    }

    /// <summary>
    /// The repo's current commit: its CID and revision (one request; errors typed like any other — a deactivated, taken
    /// down or unknown repo is <c>RepoDeactivated</c>, <c>RepoTakendown</c>, <c>RepoNotFound</c>).
    /// </summary>
    public async Task<LatestCommit> GetLatestCommitAsync(Uri service, Did did, CancellationToken cancellationToken = default)
    {
        using var json = await QueryJsonAsync(service, GetLatestCommit, [("did", did.Value)], cancellationToken);
        var root = json.RootElement;
        return Cid.TryParse(String(root, "cid"), out var cid, out _) && String(root, "rev") is { } rev && LatestCommit.IsRev(rev)
            ? new LatestCommit(cid, rev)
            : throw Malformed(GetLatestCommit, service, "the answer has no valid cid and rev");
    }

    /// <summary>A blob, streamed; reading past <see cref="XrpcOptions.MaxBlobBytes"/> fails with <see cref="XrpcErrorKind.ResponseTooLarge"/>.</summary>
    public Task<Stream> GetBlobAsync(Uri service, Did did, Cid cid, CancellationToken cancellationToken = default) =>
        QueryStreamAsync(service, GetBlob, [("did", did.Value), ("cid", cid.Value)], http.Options.MaxBlobBytes, cancellationToken);

    /// <summary>The whole repository as CAR bytes, streamed; capped by <see cref="XrpcOptions.MaxRepoBytes"/>.</summary>
    public Task<Stream> GetRepoAsync(Uri service, Did did, CancellationToken cancellationToken = default) =>
        QueryStreamAsync(service, GetRepo, [("did", did.Value)], http.Options.MaxRepoBytes, cancellationToken);

    private async Task<JsonDocument> QueryJsonAsync(Uri service, string method, (string Name, object? Value)[] parameters, CancellationToken cancellationToken)
    {
        var json = await http.GetJsonAsync(BuildUrl(service, method, parameters), method, cancellationToken);
        if (json.RootElement.ValueKind != JsonValueKind.Object)
        {
            json.Dispose();
            throw Malformed(method, service, "the body is not a JSON object");
        }

        return json;
    }

    private async Task<Stream> QueryStreamAsync(Uri service, string method, (string Name, object? Value)[] parameters, long cap, CancellationToken cancellationToken)
    {
        var response = await http.GetAsync(BuildUrl(service, method, parameters), method, cancellationToken);
        try
        {
            if (response.Content.Headers.ContentLength is { } declared && declared > cap)
            {
                throw PoliteHttp.Fail(new XrpcException(XrpcErrorKind.ResponseTooLarge, method, service.Authority, $"the body is {declared} bytes; the cap is {cap}"), method);
            }

            var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            return new CappedStream(body, cap, method, service.Authority, http.Options.RequestTimeout, owner: response);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    internal static Uri BuildUrl(Uri service, string method, (string Name, object? Value)[] parameters)
    {
        var url = new StringBuilder(service.GetLeftPart(UriPartial.Path).TrimEnd('/')).Append("/xrpc/").Append(method);
        var separator = '?';
        foreach (var (name, value) in parameters)
        {
            if (value is null)
            {
                continue;
            }

            var text = value switch
            {
                int i => i.ToString(CultureInfo.InvariantCulture),
                _ => value.ToString()!,
            };
            url.Append(separator).Append(name).Append('=').Append(Uri.EscapeDataString(text));
            separator = '&';
        }

        return new Uri(url.ToString());
    }

    private static RecordEntry? ToRecord(JsonElement record) =>
        record.ValueKind == JsonValueKind.Object
        && AtUri.TryParse(String(record, "uri"), out var uri, out _)
        && Cid.TryParse(String(record, "cid"), out var cid, out _)
        && record.TryGetProperty("value", out var value) && value.ValueKind == JsonValueKind.Object
            ? new RecordEntry(uri, cid, value.Clone())
            : null;

    private static string? NextCursor(string? previous, string? next, int pageCount, string method, Uri service)
    {
        if (next is null || pageCount == 0)
        {
            return null;
        }

        return next == previous ? throw Malformed(method, service, $"the server returned the same cursor '{next}' twice") : next;
    }

    private static IEnumerable<JsonElement> Array(JsonElement root, string property, string method, Uri service) =>
        root.TryGetProperty(property, out var array) && array.ValueKind == JsonValueKind.Array
            ? array.EnumerateArray()
            : throw Malformed(method, service, $"the answer has no '{property}' array");

    private static string? String(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static XrpcException Malformed(string method, Uri service, string message) =>
        PoliteHttp.Fail(new XrpcException(XrpcErrorKind.MalformedResponse, method, service.Authority, message), method);
}
