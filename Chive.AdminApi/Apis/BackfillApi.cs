using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Chive.AdminApi.Auth;
using Chive.AtProto.Identifiers;
using Chive.AtProto.Net;
using Chive.AdminApi.Operations;
using Chive.Contracts;
using Chive.Contracts.Operations;
using MassTransit;

namespace Chive.AdminApi.Apis;

/// <summary>The <c>pub.chive.admin.*</c> backfill methods (lexicons in <c>lexicons/pub/chive/admin/</c>).</summary>
public static class BackfillApi
{
    private const string Nsid = "pub.chive.admin.";
    private const int MaxListed = 1000;

    public static IEndpointRouteBuilder MapBackfillApi(this IEndpointRouteBuilder app)
    {
        var xrpc = app.MapGroup("/xrpc").AddEndpointFilter(RequireAdmin);

        xrpc.MapPost(Nsid + "triggerBackfill", TriggerBackfill);
        xrpc.MapPost(Nsid + "triggerGovernanceSync", Trigger(BackfillOperationType.GovernanceSync));
        xrpc.MapPost(Nsid + "triggerPDSScan", Trigger(BackfillOperationType.PdsScan));
        xrpc.MapPost(Nsid + "triggerFreshnessScan", () => NotAvailable(BackfillOperationType.FreshnessScan));
        xrpc.MapPost(Nsid + "triggerCitationExtraction", () => NotAvailable(BackfillOperationType.CitationExtraction));
        xrpc.MapPost(Nsid + "triggerFullReindex", Trigger(BackfillOperationType.FullReindex));
        xrpc.MapPost(Nsid + "triggerDIDSync", Trigger(BackfillOperationType.DidSync));
        xrpc.MapGet(Nsid + "getBackfillStatus", GetBackfillStatus);
        xrpc.MapGet(Nsid + "getBackfillHistory", GetBackfillHistory);
        xrpc.MapPost(Nsid + "cancelBackfill", CancelBackfill);
        xrpc.MapGet(Nsid + "listBackfillTypes", ListBackfillTypes);
        return app;
    }

    private static async Task<IResult> TriggerBackfill(HttpContext http, IOperationTrigger trigger)
    {
        if (await ReadBodyAsync(http) is not { } body)
        {
            return XrpcResults.InvalidRequest("the body must be a JSON object");
        }

        var type = body["type"]?.GetValueKind() == JsonValueKind.String ? body["type"]!.GetValue<string>() : null;
        if (!BackfillOperationType.IsKnown(type))
        {
            return XrpcResults.InvalidRequest($"'type' must be one of {string.Join(", ", BackfillOperationType.All)}");
        }

        if (!BackfillStateMachine.Available.Contains(type!))
        {
            return NotAvailable(type!);
        }

        body.Remove("type");
        if (ParseInput(type!, body) is not { } input)
        {
            return XrpcResults.InvalidRequest(InputHint(type!));
        }

        var (operation, alreadyRunning) = await trigger.StartAsync(type!, input.Scope, StartedBy(http), input.Metadata, http.RequestAborted);
        return Results.Ok(new { operation = OperationView.From(operation), alreadyRunning });
    }

    /// <summary>The typed trigger of one operation type: <c>{operationId, status, alreadyRunning}</c>.</summary>
    private static Delegate Trigger(string type) => async (HttpContext http, IOperationTrigger trigger) =>
    {
        if (await ReadBodyAsync(http, allowEmpty: true) is not { } body || ParseInput(type, body) is not { } input)
        {
            return XrpcResults.InvalidRequest(InputHint(type));
        }

        var (operation, alreadyRunning) = await trigger.StartAsync(type, input.Scope, StartedBy(http), input.Metadata, http.RequestAborted);
        return Results.Ok(new { operationId = operation.CorrelationId, status = operation.Status, alreadyRunning });
    };

    private sealed record TriggerInput(string Scope, Dictionary<string, string> Metadata);

    /// <summary>
    /// A type's input, checked: its scope ("*", the PDS origin of a one-PDS scan, the DID of a DID sync) and the
    /// metadata the worker reads. Null when the input is not acceptable (see <see cref="InputHint"/>).
    /// </summary>
    private static TriggerInput? ParseInput(string type, JsonObject body)
    {
        switch (type)
        {
            case BackfillOperationType.PdsScan:
                if (body["pdsUrl"] is not { } url)
                {
                    return new TriggerInput("*", []);
                }

                // A scan of one PDS neither waits for nor blocks a scan of the due PDSes.
                return url.GetValueKind() == JsonValueKind.String
                       && Uri.TryCreate(url.GetValue<string>(), UriKind.Absolute, out var uri)
                       && ServiceOrigin.TryNormalize(uri, out var origin)
                    ? new TriggerInput(origin, new() { ["pdsUrl"] = origin })
                    : null;
            case BackfillOperationType.DidSync:
                return body["did"] is { } did && did.GetValueKind() == JsonValueKind.String && Did.TryParse(did.GetValue<string>(), out var parsed)
                    ? new TriggerInput(parsed.Value, new() { ["did"] = parsed.Value })
                    : null;
            case BackfillOperationType.FullReindex:
                if (body["batchSize"] is not { } size)
                {
                    return new TriggerInput("*", new() { ["batchSize"] = BackfillStateMachine.DefaultReindexBatchSize });
                }

                return size.GetValueKind() == JsonValueKind.Number && size.AsValue().TryGetValue<int>(out var n) && n is >= 1 and <= 10_000
                    ? new TriggerInput("*", new() { ["batchSize"] = n.ToString(CultureInfo.InvariantCulture) })
                    : null;
            default:
                return new TriggerInput("*", []);
        }
    }

    private static string InputHint(string type) => type switch
    {
        BackfillOperationType.PdsScan => "the body must be {} or {\"pdsUrl\": \"https://pds.example\"}: a PDS origin, http(s)://host[:port], without a path",
        BackfillOperationType.DidSync => "the body must be {\"did\": \"did:plc:… or did:web:…\"} with a valid did:plc or did:web DID",
        BackfillOperationType.FullReindex => "the body must be {} or {\"batchSize\": n} with an integer n from 1 to 10000",
        _ => "the body must be a JSON object",
    };

    private static async Task<IResult> GetBackfillStatus(string? id, string? status, OperationStore store)
    {
        if (id is not null)
        {
            if (!Guid.TryParse(id, out var operationId))
            {
                return XrpcResults.InvalidRequest($"'{id}' is not an operation id (a UUID)");
            }

            return await store.GetAsync(operationId) is { } operation
                ? Results.Ok(new { operation = OperationView.From(operation) })
                : XrpcResults.NotFound($"no operation {operationId} (finished operations are kept for 24 hours)");
        }

        if (status is not null && !BackfillStatus.All.Contains(status))
        {
            return XrpcResults.InvalidRequest($"'status' must be one of {string.Join(", ", BackfillStatus.All)}");
        }

        var operations = await store.ListAsync(status ?? "all", MaxListed);
        return Results.Ok(new { operations = operations.Select(OperationView.From) });
    }

    private static async Task<IResult> GetBackfillHistory(int? limit, string? cursor, OperationStore store)
    {
        if (limit is < 1 or > MaxListed)
        {
            return XrpcResults.InvalidRequest($"'limit' must be between 1 and {MaxListed}");
        }

        BackfillOperation? after = null;
        if (cursor is not null)
        {
            if (ParseCursor(cursor) is not { } position)
            {
                return XrpcResults.InvalidRequest("'cursor' is not a cursor this method returned");
            }

            after = position;
        }

        var page = await store.ListAsync("finished", limit ?? 100, after);
        var next = page.Count == (limit ?? 100) ? FormatCursor(page[^1]) : null;
        return Results.Ok(new { operations = page.Select(OperationView.From), cursor = next });
    }

    private static async Task<IResult> CancelBackfill(HttpContext http, IRequestClient<CancelBackfill> client)
    {
        if (await ReadBodyAsync(http) is not { } body
            || body["id"]?.GetValueKind() != JsonValueKind.String
            || !Guid.TryParse(body["id"]!.GetValue<string>(), out var id))
        {
            return XrpcResults.InvalidRequest("the body must be {\"id\": \"<operation id>\"}");
        }

        var result = (await client.GetResponse<CancelBackfillResult>(new CancelBackfill(id, StartedBy(http)), http.RequestAborted)).Message;
        return result.Status == "notFound"
            ? XrpcResults.NotFound($"no operation {id}")
            : Results.Ok(new { success = result.Success, id, status = result.Status });
    }

    private static IResult ListBackfillTypes() => Results.Ok(new
    {
        types = BackfillOperationType.All.Select(type => new
        {
            type,
            available = BackfillStateMachine.Available.Contains(type),
            reason = BackfillStateMachine.Available.Contains(type) ? null : "no worker handles this type yet",
        }),
    });

    private static IResult NotAvailable(string type) =>
        XrpcResults.Error(StatusCodes.Status501NotImplemented, "NotImplemented", $"{type} operations have no worker yet; nothing was started");

    private static async ValueTask<object?> RequireAdmin(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var nsid = http.Request.Path.Value?["/xrpc/".Length..] ?? "";
        var authenticator = http.RequestServices.GetRequiredService<IAdminAuthenticator>();
        switch (authenticator.Authenticate(http.Request, nsid))
        {
            case AdminAuthResult.Admin admin:
                http.Items[nameof(AdminAuthResult.Admin)] = admin.Label;
                return await next(context);
            case AdminAuthResult.Anonymous anonymous:
                return XrpcResults.Error(StatusCodes.Status401Unauthorized, "AuthenticationRequired", anonymous.Reason);
            case AdminAuthResult.Refused refused:
                return XrpcResults.Error(StatusCodes.Status403Forbidden, "Forbidden", refused.Reason);
            default:
                throw new InvalidOperationException("unknown authentication result");
        }
    }

    private static string StartedBy(HttpContext http) => http.Items[nameof(AdminAuthResult.Admin)] as string ?? "unknown";

    private static async Task<JsonObject?> ReadBodyAsync(HttpContext http, bool allowEmpty = false)
    {
        if (allowEmpty && http.Request.ContentLength is null or 0 && !http.Request.Headers.TransferEncoding.Any())
        {
            return [];
        }

        try
        {
            return await JsonNode.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string FormatCursor(BackfillOperation last) =>
        $"{last.StartedAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}_{last.CorrelationId:D}";

    private static BackfillOperation? ParseCursor(string cursor)
    {
        var parts = cursor.Split('_');
        return parts.Length == 2
               && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
               && Guid.TryParse(parts[1], out var id)
            ? new BackfillOperation { CorrelationId = id, StartedAt = DateTimeOffset.FromUnixTimeMilliseconds(ms) }
            : null;
    }
}
