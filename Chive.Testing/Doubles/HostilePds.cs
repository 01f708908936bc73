using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Chive.Testing.Doubles;

/// <summary>
/// A PDS run by someone who means harm, or is merely broken: an HTTP server that answers XRPC queries — the ones a scan
/// uses (<c>com.atproto.sync.listRepos</c>, <c>com.atproto.repo.describeRepo</c>, <c>com.atproto.repo.listRecords</c>),
/// <c>com.atproto.sync.getLatestCommit</c>, <c>getBlob</c>, whatever a test scripts — with whatever its script says, byte
/// for byte: other people's DIDs, records
/// whose URIs name other repos or collections, cursors that cycle or never end, multi-megabyte records, invalid UTF-8,
/// bodies that stall after their headers or end before their declared length, absurd rate-limit headers.
/// <para>
/// Each method answers from <see cref="Methods"/> (by NSID, given the query string); a method without a script answers
/// 501 <c>MethodNotImplemented</c>, as the reference PDS does for methods it does not serve. Every request is logged
/// (<see cref="Log"/>). It checks nothing of what it is asked (authentication, limits, parameter validity) and speaks no
/// other method; it writes nothing and keeps no repo — what it serves is only what the script returns.
/// </para>
/// </summary>
public sealed class HostilePds : HttpDouble
{
    public ConcurrentDictionary<string, Func<IQueryCollection, Answer>> Methods { get; } = new(StringComparer.Ordinal);

    public ConcurrentQueue<string> Log { get; } = new();

    public int CountOf(string nsid) => Log.Count(l => l.StartsWith(nsid, StringComparison.Ordinal));

    /// <summary>The origin a DID document names for this PDS.</summary>
    public string Origin => BaseAddress.GetLeftPart(UriPartial.Authority);

    public static async Task<HostilePds> StartNewAsync()
    {
        var pds = new HostilePds();
        await pds.StartAsync();
        return pds;
    }

    /// <summary>
    /// <c>listRepos</c> over <paramref name="dids"/>, in pages of the asked limit (the cursor is the index of the next
    /// repo), ending with an empty page and no cursor as the reference PDS does.
    /// </summary>
    public HostilePds ListingRepos(params string[] dids)
    {
        Methods["com.atproto.sync.listRepos"] = query =>
        {
            var from = int.TryParse(query["cursor"], out var c) ? c : 0;
            var limit = int.TryParse(query["limit"], out var l) ? l : 500;
            var page = dids.Skip(from).Take(limit).Select(d => (JsonNode)new JsonObject { ["did"] = d, ["head"] = Cid, ["rev"] = "3l000000000aa", ["active"] = true }).ToArray();
            var body = new JsonObject { ["repos"] = new JsonArray(page) };
            if (page.Length > 0)
            {
                body["cursor"] = (from + page.Length).ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            return Answer.Json(body);
        };
        return this;
    }

    /// <summary><c>describeRepo</c> naming <paramref name="collections"/> for every DID asked about.</summary>
    public HostilePds Describing(params string[] collections)
    {
        Methods["com.atproto.repo.describeRepo"] = query => Answer.Json(new JsonObject
        {
            ["did"] = query["repo"].ToString(),
            ["handle"] = "hostile.test",
            ["handleIsCorrect"] = false,
            ["collections"] = new JsonArray(collections.Select(c => (JsonNode)c).ToArray()),
        });
        return this;
    }

    /// <summary>A CID that parses (the reference PDS's own format); hostile servers reuse whatever looks right.</summary>
    public const string Cid = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm";

    /// <summary>A <c>listRecords</c> entry, as JSON text (so tests can build bodies that no serializer would).</summary>
    public static JsonObject Record(string uri, JsonNode value, string cid = Cid) => new() { ["uri"] = uri, ["cid"] = cid, ["value"] = value };

    protected override void Map(WebApplication app)
    {
        app.MapGet("/xrpc/{nsid}", async (string nsid, HttpContext http) =>
        {
            Log.Enqueue($"{nsid}?{http.Request.QueryString.Value?.TrimStart('?')}");
            if (!Methods.TryGetValue(nsid, out var script))
            {
                http.Response.StatusCode = 501;
                await http.Response.WriteAsJsonAsync(new { error = "MethodNotImplemented", message = $"{nsid} is not served here" });
                return;
            }

            await script(http.Request.Query).WriteAsync(http);
        });
    }

    /// <summary>One scripted answer: status, headers and body bytes, and how the body is delivered.</summary>
    public sealed record Answer(int Status, byte[] Body, string ContentType = "application/json", IReadOnlyDictionary<string, string>? Headers = null)
    {
        /// <summary>Send the headers and the first bytes, then nothing more for this long (a body that stalls).</summary>
        public TimeSpan StallAfterHeaders { get; init; }

        /// <summary>Declare a Content-Length this much larger than the body sent, then close (a body that ends early).</summary>
        public int ShortBy { get; init; }

        public static Answer Json(JsonNode body, int status = 200, IReadOnlyDictionary<string, string>? headers = null) =>
            new(status, Encoding.UTF8.GetBytes(body.ToJsonString()), Headers: headers);

        /// <summary>Exactly these bytes as the body (invalid UTF-8, duplicate keys, lone surrogate escapes, anything).</summary>
        public static Answer Raw(string text, int status = 200) => new(status, Encoding.UTF8.GetBytes(text));

        public static Answer Raw(byte[] bytes, int status = 200) => new(status, bytes);

        public async Task WriteAsync(HttpContext http)
        {
            http.Response.StatusCode = Status;
            http.Response.ContentType = ContentType;
            foreach (var (name, value) in Headers ?? new Dictionary<string, string>())
            {
                http.Response.Headers[name] = value;
            }

            if (ShortBy > 0)
            {
                http.Response.ContentLength = Body.Length + ShortBy;
                await http.Response.Body.WriteAsync(Body);
                await http.Response.Body.FlushAsync();
                http.Abort();
                return;
            }

            if (StallAfterHeaders > TimeSpan.Zero)
            {
                http.Response.ContentLength = Body.Length;
                await http.Response.Body.WriteAsync(Body.AsMemory(0, Math.Min(8, Body.Length)));
                await http.Response.Body.FlushAsync();
                try
                {
                    await Task.Delay(StallAfterHeaders, http.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                await http.Response.Body.WriteAsync(Body.AsMemory(Math.Min(8, Body.Length)));
                return;
            }

            http.Response.ContentLength = Body.Length;
            await http.Response.Body.WriteAsync(Body);
        }
    }
}
