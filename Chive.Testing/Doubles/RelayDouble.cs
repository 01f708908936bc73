using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Chive.Testing.Doubles;

/// <summary>
/// A relay's <c>com.atproto.sync.listHosts</c> (lexicon: <c>{cursor?, hosts: [{hostname, seq, accountCount, status}]}</c>),
/// serving <see cref="Hosts"/> — JSON objects as given, hostile ones included — <see cref="PageSize"/> at a time (the
/// client's <c>limit</c>, capped there), the cursor being the index of the next entry; no cursor after the last page.
/// Every cursor asked for is kept in <see cref="Cursors"/> (empty string: none).
/// Does not check: any other relay route (no firehose, requestCrawl, getHostStatus), the real relay's cursor format
/// (an opaque sequence), authentication, rate limits.
/// </summary>
public sealed class RelayDouble : HttpDouble
{
    private readonly Lock _gate = new();
    private readonly List<string> _cursors = [];

    public List<JsonObject> Hosts { get; } = [];

    public int PageSize { get; set; } = 2;

    public IReadOnlyList<string> Cursors
    {
        get
        {
            lock (_gate)
            {
                return [.. _cursors];
            }
        }
    }

    public static async Task<RelayDouble> StartNewAsync()
    {
        var relay = new RelayDouble();
        await relay.StartAsync();
        return relay;
    }

    protected override void Map(WebApplication app) =>
        app.MapGet("/xrpc/com.atproto.sync.listHosts", (HttpContext context) =>
        {
            var cursor = context.Request.Query["cursor"].ToString();
            var limit = int.TryParse(context.Request.Query["limit"], NumberStyles.None, CultureInfo.InvariantCulture, out var l) ? Math.Min(l, PageSize) : PageSize;
            JsonObject answer;
            lock (_gate)
            {
                _cursors.Add(cursor);
                var start = cursor.Length == 0 ? 0 : int.Parse(cursor, CultureInfo.InvariantCulture);
                var page = Hosts.Skip(start).Take(limit).Select(h => (JsonNode)h.DeepClone()).ToArray();
                answer = new JsonObject { ["hosts"] = new JsonArray(page) };
                if (start + page.Length < Hosts.Count)
                {
                    answer["cursor"] = (start + page.Length).ToString(CultureInfo.InvariantCulture);
                }
            }

            return Results.Text(answer.ToJsonString(), "application/json");
        });
}
