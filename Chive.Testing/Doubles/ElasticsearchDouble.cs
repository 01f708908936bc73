using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Chive.Testing.Doubles;

/// <summary>
/// Elasticsearch 9 as far as Chive uses it, in memory: <c>GET /</c>, <c>GET /_cluster/health</c>, index exists /
/// create (settings and mappings stored, not interpreted) / delete, <c>_bulk</c> (index, create, delete; per-item
/// results and errors), <c>PUT _settings</c> (stored, not applied), <c>_aliases</c> (atomic add/remove), <c>GET /_alias/{name}</c>, <c>_refresh</c>, <c>_count</c>, index one document by id and
/// get by id — every response with the <c>X-Elastic-Product: Elasticsearch</c> header Elastic's client requires, and
/// gzip-compressed request bodies accepted (the client sends them).
/// Requests to an alias go to its single index. <c>_search</c> answers two queries only, for tests to read back what
/// was indexed: <c>match_all</c> and <c>prefix</c> on one field compared as an exact string (a keyword field), with
/// <c>size</c>; every hit scores 1.0, sorted by id.
/// Does not check: analysis, mapping semantics or dynamic-mapping conflicts, scoring and other searches, refresh visibility
/// (documents are visible at once), versions beyond a per-document counter, shard behaviour, security, and query
/// parameters other than <c>require_alias</c> on <c>_bulk</c> (honoured: a target that is not an alias fails each item
/// with 404 <c>index_not_found_exception</c> and creates nothing). <c>GET /{index}/_mapping</c> returns the mappings
/// as created. <see cref="RejectNextBulk"/> answers one <c>_bulk</c> with 429, like a full queue.
/// </summary>
public sealed class ElasticsearchDouble : HttpDouble
{
    private readonly ConcurrentDictionary<string, IndexState> _indices = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _aliases = new(StringComparer.Ordinal);
    private readonly Lock _aliasGate = new();

    public string Status { get; set; } = "green";

    /// <summary>Answer the next <c>_bulk</c> request with 429 es_rejected_execution_exception.</summary>
    public bool RejectNextBulk { get; set; }

    /// <summary>Documents whose id this returns true for fail in <c>_bulk</c> with a mapper_parsing_exception.</summary>
    public Func<string, bool> FailDocument { get; set; } = _ => false;

    public int BulkRequests { get; private set; }

    /// <summary>Delay before each <c>_bulk</c> answer (a busy cluster, to keep a reindex running for a while).</summary>
    public TimeSpan BulkDelay { get; set; }

    public IReadOnlyCollection<string> Indices => _indices.Keys.ToList();

    public string? AliasTarget(string alias) => _aliases.GetValueOrDefault(alias);

    public IReadOnlyDictionary<string, JsonObject> Documents(string indexOrAlias) =>
        _indices.TryGetValue(Resolve(indexOrAlias), out var index) ? index.Documents.ToDictionary(d => d.Key, d => d.Value.Source) : new Dictionary<string, JsonObject>();

    public JsonObject? Definition(string index) => _indices.TryGetValue(index, out var state) ? state.Definition : null;

    /// <summary>The last settings update the index received (<c>PUT /{index}/_settings</c>), or null.</summary>
    public JsonObject? SettingsUpdate(string index) => _indices.TryGetValue(index, out var state) ? state.Settings : null;

    public static async Task<ElasticsearchDouble> StartNewAsync()
    {
        var server = new ElasticsearchDouble();
        await server.StartAsync();
        return server;
    }

    protected override void Map(WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            context.Response.Headers["X-Elastic-Product"] = "Elasticsearch";
            if (context.Request.Headers.ContentEncoding.ToString().Contains("gzip", StringComparison.OrdinalIgnoreCase))
            {
                // Elastic's client compresses request bodies; Elasticsearch accepts them.
                context.Request.Body = new System.IO.Compression.GZipStream(context.Request.Body, System.IO.Compression.CompressionMode.Decompress);
            }

            try
            {
                await next(context);
            }
            catch (Exception ex) when (!context.Response.HasStarted)
            {
                // A bug of the double, reported the way Elasticsearch reports its own failures.
                await Error(500, "double_exception", ex.ToString()).ExecuteAsync(context);
            }
        });

        app.MapGet("/", () => Results.Json(new
        {
            name = "chive-test-double",
            cluster_name = "chive-test",
            cluster_uuid = "chive-test-cluster-uuid",
            version = new { number = "9.1.5", build_flavor = "default", build_type = "docker", lucene_version = "10.2.2", minimum_wire_compatibility_version = "8.19.0", minimum_index_compatibility_version = "8.0.0" },
            tagline = "You Know, for Search",
        }));
        app.MapGet("/_cluster/health", () => Results.Json(new
        {
            cluster_name = "chive-test",
            status = Status,
            timed_out = false,
            number_of_nodes = 1,
            number_of_data_nodes = 1,
            active_primary_shards = _indices.Count,
            active_shards = _indices.Count,
            relocating_shards = 0,
            initializing_shards = 0,
            unassigned_shards = 0,
            unassigned_primary_shards = 0,
            delayed_unassigned_shards = 0,
            number_of_pending_tasks = 0,
            number_of_in_flight_fetch = 0,
            task_max_waiting_in_queue_millis = 0,
            active_shards_percent_as_number = 100.0,
        }));
        app.MapPost("/_bulk", (Func<HttpContext, Task<IResult>>)(context => BulkAsync(context, null)));
        app.MapPut("/_bulk", (Func<HttpContext, Task<IResult>>)(context => BulkAsync(context, null)));
        app.MapPost("/_aliases", (Func<HttpContext, Task<IResult>>)AliasesAsync);
        app.MapGet("/_alias/{name}", (string name) => _aliases.TryGetValue(name, out var index)
            ? Results.Json(new Dictionary<string, object> { [index] = new { aliases = new Dictionary<string, object> { [name] = new { } } } })
            : Error(404, "alias_not_found_exception", $"alias [{name}] missing"));
        app.MapMethods("/{index}", ["HEAD"], (string index) => _indices.ContainsKey(Resolve(index)) ? Results.Ok() : Results.NotFound());
        app.MapPut("/{index}", CreateIndexAsync);
        app.MapDelete("/{index}", (string index) =>
        {
            if (!_indices.TryRemove(index, out _))
            {
                return Error(404, "index_not_found_exception", $"no such index [{index}]");
            }

            lock (_aliasGate)
            {
                // As in Elasticsearch, an index's aliases go with it.
                foreach (var (alias, _) in _aliases.Where(p => p.Value == index).ToList())
                {
                    _aliases.TryRemove(alias, out _);
                }
            }

            return Results.Json(new { acknowledged = true });
        });
        app.MapPost("/{index}/_bulk", (string index, HttpContext context) => BulkAsync(context, index));
        app.MapGet("/{index}/_mapping", (string index) => _indices.TryGetValue(Resolve(index), out var state)
            ? Results.Json(new JsonObject { [Resolve(index)] = new JsonObject { ["mappings"] = state.Definition["mappings"]?.DeepClone() ?? new JsonObject() } })
            : Error(404, "index_not_found_exception", $"no such index [{index}]"));
        app.MapMethods("/{index}/_refresh", ["POST", "GET"], (string index) => _indices.ContainsKey(Resolve(index))
            ? Results.Json(new { _shards = new { total = 1, successful = 1, failed = 0 } })
            : Error(404, "index_not_found_exception", $"no such index [{index}]"));
        app.MapMethods("/{index}/_count", ["POST", "GET"], (string index) => _indices.TryGetValue(Resolve(index), out var state)
            ? Results.Json(new { count = state.Documents.Count, _shards = new { total = 1, successful = 1, skipped = 0, failed = 0 } })
            : Error(404, "index_not_found_exception", $"no such index [{index}]"));
        app.MapPut("/{index}/_settings", async (string index, HttpContext context) =>
        {
            if (!_indices.TryGetValue(Resolve(index), out var state))
            {
                return Error(404, "index_not_found_exception", $"no such index [{index}]");
            }

            state.Settings = await ReadJsonAsync(context) ?? [];
            return Results.Json(new { acknowledged = true });
        });
        app.MapMethods("/{index}/_search", ["POST", "GET"], (Func<string, HttpContext, Task<IResult>>)SearchAsync);
        app.MapMethods("/{index}/_doc/{id}", ["PUT", "POST"], async (string index, string id, HttpContext context) =>
        {
            id = Uri.UnescapeDataString(id);
            if (await ReadJsonAsync(context) is not { } source)
            {
                return Error(400, "mapper_parsing_exception", "failed to parse");
            }

            var state = _indices.GetOrAdd(Resolve(index), _ => new IndexState([]));
            var created = !state.Documents.TryGetValue(id, out var existing);
            var version = (existing?.Version ?? 0) + 1;
            state.Documents[id] = new StoredDocument(source, version);
            return Results.Json(Item(Resolve(index), id, created ? 201 : 200, created ? "created" : "updated", version), statusCode: created ? 201 : 200);
        });
        app.MapGet("/{index}/_doc/{id}", (string index, string id) =>
        {
            id = Uri.UnescapeDataString(id); // routing leaves %2F encoded; AT-URIs are full of slashes
            var name = Resolve(index);
            if (!_indices.TryGetValue(name, out var state))
            {
                return Error(404, "index_not_found_exception", $"no such index [{index}]");
            }

            return state.Documents.TryGetValue(id, out var doc)
                ? Results.Json(new { _index = name, _id = id, _version = doc.Version, _seq_no = doc.Version - 1, _primary_term = 1, found = true, _source = doc.Source })
                : Results.Json(new { _index = name, _id = id, found = false }, statusCode: 404);
        });
    }

    private string Resolve(string indexOrAlias) => _aliases.TryGetValue(indexOrAlias, out var index) ? index : indexOrAlias;

    private async Task<IResult> CreateIndexAsync(string index, HttpContext context)
    {
        var body = await ReadJsonAsync(context) ?? [];
        if (_indices.ContainsKey(index) || _aliases.ContainsKey(index))
        {
            return Error(400, "resource_already_exists_exception", $"index [{index}] already exists");
        }

        _indices[index] = new IndexState(body);
        if (body["aliases"] is JsonObject aliases)
        {
            foreach (var (alias, _) in aliases)
            {
                _aliases[alias] = index;
            }
        }

        return Results.Json(new { acknowledged = true, shards_acknowledged = true, index });
    }

    private async Task<IResult> SearchAsync(string index, HttpContext context)
    {
        if (!_indices.TryGetValue(Resolve(index), out var state))
        {
            return Error(404, "index_not_found_exception", $"no such index [{index}]");
        }

        var body = await ReadJsonAsync(context) ?? [];
        var size = body["size"]?.GetValue<int>() ?? 10;
        IEnumerable<KeyValuePair<string, StoredDocument>> hits = state.Documents;
        switch (body["query"] as JsonObject)
        {
            case null:
            case var q when q.ContainsKey("match_all"):
                break;
            case var q when q["prefix"] is JsonObject prefix && prefix.Count == 1:
                var (field, condition) = prefix.First();
                var value = condition is JsonObject o ? o["value"]!.GetValue<string>() : condition!.GetValue<string>();
                hits = hits.Where(d => d.Value.Source[field]?.GetValueKind() == JsonValueKind.String
                    && d.Value.Source[field]!.GetValue<string>().StartsWith(value, StringComparison.Ordinal));
                break;
            default:
                return Error(400, "parsing_exception", "the test double answers only match_all and prefix queries");
        }

        var all = hits.OrderBy(d => d.Key, StringComparer.Ordinal).ToList();
        var withVersion = body["version"]?.GetValueKind() == JsonValueKind.True;
        var page = new JsonArray(all.Take(size).Select(d =>
        {
            var hit = new JsonObject { ["_index"] = Resolve(index), ["_id"] = d.Key, ["_score"] = 1.0, ["_source"] = d.Value.Source.DeepClone() };
            if (withVersion)
            {
                hit["_version"] = d.Value.Version; // "version": true asks for it, as in Elasticsearch
            }

            return (JsonNode)hit;
        }).ToArray());
        return Results.Json(new JsonObject
        {
            ["took"] = 1,
            ["timed_out"] = false,
            ["_shards"] = new JsonObject { ["total"] = 1, ["successful"] = 1, ["skipped"] = 0, ["failed"] = 0 },
            ["hits"] = new JsonObject { ["total"] = new JsonObject { ["value"] = all.Count, ["relation"] = "eq" }, ["max_score"] = 1.0, ["hits"] = page },
        });
    }

    private async Task<IResult> AliasesAsync(HttpContext context)
    {
        var body = await ReadJsonAsync(context);
        if (body?["actions"] is not JsonArray actions)
        {
            return Error(400, "action_request_validation_exception", "no actions");
        }

        lock (_aliasGate)
        {
            // All or nothing, like Elasticsearch: check every action first.
            foreach (var action in actions.OfType<JsonObject>())
            {
                var (verb, args) = action.First();
                var index = args?["index"]?.GetValue<string>();
                if (verb is "add" or "remove" or "remove_index" && (index is null || !_indices.ContainsKey(index)))
                {
                    return Error(404, "index_not_found_exception", $"no such index [{index}]");
                }
            }

            foreach (var action in actions.OfType<JsonObject>())
            {
                var (verb, args) = action.First();
                var index = args!["index"]!.GetValue<string>();
                var alias = args["alias"]?.GetValue<string>();
                switch (verb)
                {
                    case "add":
                        _aliases[alias!] = index;
                        break;
                    case "remove" when _aliases.TryGetValue(alias!, out var current) && current == index:
                        _aliases.TryRemove(alias!, out _);
                        break;
                    case "remove_index":
                        _indices.TryRemove(index, out _);
                        foreach (var (a, i) in _aliases.Where(p => p.Value == index).ToList())
                        {
                            _aliases.TryRemove(a, out _);
                        }

                        break;
                }
            }
        }

        return Results.Json(new { acknowledged = true });
    }

    private async Task<IResult> BulkAsync(HttpContext context, string? defaultIndex)
    {
        BulkRequests++;
        await Task.Delay(BulkDelay);
        if (RejectNextBulk)
        {
            RejectNextBulk = false;
            return Error(429, "es_rejected_execution_exception", "rejected execution of coordinating operation");
        }

        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var lines = (await reader.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var items = new JsonArray();
        var errors = false;
        var requireAlias = string.Equals(context.Request.Query["require_alias"], "true", StringComparison.OrdinalIgnoreCase);
        for (var i = 0; i < lines.Length; i++)
        {
            var header = JsonNode.Parse(lines[i])!.AsObject();
            var (verb, meta) = header.First();
            var target = meta?["_index"]?.GetValue<string>() ?? defaultIndex ?? "";
            var index = Resolve(target);
            var id = meta?["_id"]?.GetValue<string>() ?? Guid.NewGuid().ToString("N");
            JsonObject? source = null;
            if (verb is "index" or "create")
            {
                source = JsonNode.Parse(lines[++i]) as JsonObject;
            }

            if (requireAlias && !_aliases.ContainsKey(target))
            {
                // Elasticsearch's answer when require_alias is set and the target is not an alias: nothing is created.
                errors = true;
                items.Add(new JsonObject
                {
                    [verb] = Item(target, id, 404, error: new JsonObject
                    {
                        ["type"] = "index_not_found_exception",
                        ["reason"] = $"no such index [{target}] and [require_alias] request flag is [true] and [{target}] is not an alias",
                    }),
                });
                continue;
            }

            var state = _indices.GetOrAdd(index, _ => new IndexState([])); // auto-create, as Elasticsearch does by default
            JsonObject result;
            if (verb is "index" or "create" && (source is null || FailDocument(id)))
            {
                errors = true;
                result = Item(index, id, 400, error: new JsonObject { ["type"] = "mapper_parsing_exception", ["reason"] = $"failed to parse document [{id}]" });
            }
            else if (verb == "create" && state.Documents.ContainsKey(id))
            {
                errors = true;
                result = Item(index, id, 409, error: new JsonObject { ["type"] = "version_conflict_engine_exception", ["reason"] = $"[{id}]: document already exists" });
            }
            else if (verb is "index" or "create")
            {
                var created = !state.Documents.TryGetValue(id, out var existing);
                var version = (existing?.Version ?? 0) + 1;
                state.Documents[id] = new StoredDocument(source!, version);
                result = Item(index, id, created ? 201 : 200, result: created ? "created" : "updated", version: version);
            }
            else if (verb == "delete")
            {
                var found = state.Documents.TryRemove(id, out var removed);
                result = Item(index, id, found ? 200 : 404, result: found ? "deleted" : "not_found", version: (removed?.Version ?? 0) + 1);
            }
            else
            {
                errors = true;
                result = Item(index, id, 400, error: new JsonObject { ["type"] = "illegal_argument_exception", ["reason"] = $"unsupported action [{verb}]" });
            }

            items.Add(new JsonObject { [verb] = result });
        }

        return Results.Json(new JsonObject { ["took"] = 1, ["errors"] = errors, ["items"] = items });
    }

    private static JsonObject Item(string index, string id, int status, string? result = null, long? version = null, JsonObject? error = null)
    {
        var item = new JsonObject { ["_index"] = index, ["_id"] = id, ["status"] = status };
        if (result is not null)
        {
            item["result"] = result;
            item["_version"] = version;
            item["_seq_no"] = version - 1;
            item["_primary_term"] = 1;
            item["_shards"] = new JsonObject { ["total"] = 1, ["successful"] = 1, ["failed"] = 0 };
        }

        if (error is not null)
        {
            item["error"] = error;
        }

        return item;
    }

    private static IResult Error(int status, string type, string reason) => Results.Json(new
    {
        error = new { root_cause = new[] { new { type, reason } }, type, reason },
        status,
    }, statusCode: status);

    private static async Task<JsonObject?> ReadJsonAsync(HttpContext context)
    {
        try
        {
            return await JsonNode.ParseAsync(context.Request.Body) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private sealed record StoredDocument(JsonObject Source, long Version);

    private sealed class IndexState(JsonObject definition)
    {
        public JsonObject Definition { get; } = definition;

        /// <summary>The last body of <c>PUT /{index}/_settings</c> (stored, not interpreted).</summary>
        public JsonObject? Settings { get; set; }

        public ConcurrentDictionary<string, StoredDocument> Documents { get; } = new(StringComparer.Ordinal);
    }
}
