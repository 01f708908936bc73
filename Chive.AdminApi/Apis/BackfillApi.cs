using System.Globalization;
using System.Text.Json;
using Chive.AdminApi.Auth;
using Chive.AdminApi.Operations;
using Chive.AdminApi.OperationTypes;
using Chive.Contracts;
using Chive.Contracts.Operations;
using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Chive.AdminApi.Apis;

/// <summary>
/// The <c>pub.chive.admin.*</c> backfill methods (lexicons in <c>lexicons/pub/chive/admin/</c>). What an operation type
/// accepts and starts is its <see cref="IOperationType"/>'s business; a type without one answers 501.
/// </summary>
public static class BackfillApi
{
    private const string Nsid = "pub.chive.admin.";
    private const int MaxListed = 1000;
    private const int DefaultHistoryLimit = 100;

    public static IEndpointRouteBuilder MapBackfillApi(this IEndpointRouteBuilder app)
    {
        var xrpc = app.MapGroup("/xrpc").AddEndpointFilter(RequireAdmin);

        xrpc.MapPost(Nsid + "triggerBackfill", TriggerBackfill);
        xrpc.MapPost(Nsid + "triggerPDSScan", Trigger(BackfillOperationType.PdsScan));
        xrpc.MapPost(Nsid + "triggerFreshnessScan", Trigger(BackfillOperationType.FreshnessScan));
        xrpc.MapPost(Nsid + "triggerCitationExtraction", Trigger(BackfillOperationType.CitationExtraction));
        xrpc.MapPost(Nsid + "triggerFullReindex", Trigger(BackfillOperationType.FullReindex));
        xrpc.MapPost(Nsid + "triggerGovernanceSync", Trigger(BackfillOperationType.GovernanceSync));
        xrpc.MapPost(Nsid + "triggerDIDSync", Trigger(BackfillOperationType.DidSync));
        xrpc.MapGet(Nsid + "getBackfillStatus", GetBackfillStatus);
        xrpc.MapGet(Nsid + "getBackfillHistory", GetBackfillHistory);
        xrpc.MapGet(Nsid + "getBackfillDetails", GetBackfillDetails);
        xrpc.MapPost(Nsid + "cancelBackfill", CancelBackfill);
        xrpc.MapGet(Nsid + "listBackfillTypes", ListBackfillTypes);
        return app;
    }

    public sealed record TriggerOutput(Guid OperationId, string Status, bool AlreadyRunning);

    public sealed record TriggerBackfillOutput(OperationView Operation, bool AlreadyRunning);

    public sealed record OperationOutput(OperationView Operation);

    public sealed record OperationsOutput(IReadOnlyList<OperationView> Operations, string? Cursor = null);

    public sealed record CancelOutput(bool Success, Guid Id, string Status);

    public sealed record DetailsOutput(
        OperationView Operation, IReadOnlyList<PdsOutcomeView>? Pdses, IReadOnlyList<RejectionView>? Rejections, long? RejectionsTotal, string? DetailsError);

    public sealed record TypesOutput(IReadOnlyList<TypeAvailability> Types);

    public sealed record TypeAvailability(string Type, bool Available, string? Reason);

    private static async Task<Results<Ok<TriggerBackfillOutput>, JsonHttpResult<XrpcError>>> TriggerBackfill(
        HttpContext http, OperationTypeRegistry types, IOperationTrigger trigger)
    {
        var (body, error) = await XrpcBody.ReadAsync(http);
        if (error is not null)
        {
            return error;
        }

        var name = body!["type"] is { } node && node.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : null;
        if (name is null || !BackfillOperationType.IsKnown(name))
        {
            return XrpcResults.InvalidRequest($"'type' must be one of {string.Join(", ", BackfillOperationType.All)}");
        }

        if (types.Find(name) is not { } type)
        {
            return NotAvailable(name);
        }

        body.Remove("type");
        var check = await type.CheckInputAsync(body, http.RequestAborted);
        if (check.Input is not { } input)
        {
            return XrpcResults.InvalidRequest(check.Refusal ?? type.InputHint);
        }

        var (operation, alreadyRunning) = await trigger.StartAsync(type.Name, input.WithInput(body), StartedBy(http), http.RequestAborted);
        return TypedResults.Ok(new TriggerBackfillOutput(OperationView.From(operation), alreadyRunning));
    }

    /// <summary>The typed trigger of one operation type: <c>{operationId, status, alreadyRunning}</c>.</summary>
    private static Func<HttpContext, OperationTypeRegistry, IOperationTrigger, Task<Results<Ok<TriggerOutput>, JsonHttpResult<XrpcError>>>> Trigger(string name) =>
        async (http, types, trigger) =>
        {
            if (types.Find(name) is not { } type)
            {
                return NotAvailable(name);
            }

            var (body, error) = await XrpcBody.ReadAsync(http, allowEmpty: true);
            if (error is not null)
            {
                return error;
            }

            var check = await type.CheckInputAsync(body!, http.RequestAborted);
            if (check.Input is not { } input)
            {
                return XrpcResults.InvalidRequest(check.Refusal ?? type.InputHint);
            }

            var (operation, alreadyRunning) = await trigger.StartAsync(type.Name, input.WithInput(body!), StartedBy(http), http.RequestAborted);
            return TypedResults.Ok(new TriggerOutput(operation.CorrelationId, operation.Status, alreadyRunning));
        };

    private static async Task<Results<Ok<OperationOutput>, Ok<OperationsOutput>, JsonHttpResult<XrpcError>>> GetBackfillStatus(
        string? id, string? status, OperationStore store)
    {
        if (id is not null)
        {
            if (!Guid.TryParse(id, out var operationId))
            {
                return XrpcResults.InvalidRequest($"'{id}' is not an operation id (a UUID)");
            }

            return await store.GetAsync(operationId) is { } operation
                ? TypedResults.Ok(new OperationOutput(OperationView.From(operation)))
                : XrpcResults.NotFound($"no operation {operationId} (finished operations are kept for 24 hours)");
        }

        if (status is not null && !BackfillStatus.All.Contains(status))
        {
            return XrpcResults.InvalidRequest($"'status' must be one of {string.Join(", ", BackfillStatus.All)}");
        }

        var operations = await store.ListAsync(status is null ? OperationFilter.All : OperationFilter.WithStatus(status), MaxListed);
        return TypedResults.Ok(new OperationsOutput(operations.Select(OperationView.From).ToList()));
    }

    private static async Task<Results<Ok<OperationsOutput>, JsonHttpResult<XrpcError>>> GetBackfillHistory(
        string? limit, string? cursor, OperationStore store)
    {
        var pageSize = DefaultHistoryLimit;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > MaxListed))
        {
            return XrpcResults.InvalidRequest($"'limit' must be an integer between 1 and {MaxListed}");
        }

        BackfillOperation? after = null;
        if (cursor is not null && (after = ParseCursor(cursor)) is null)
        {
            return XrpcResults.InvalidRequest("'cursor' is not a cursor this method returned");
        }

        var page = await store.ListAsync(OperationFilter.Finished, pageSize, after);
        var next = page.Count == pageSize ? FormatCursor(page[^1]) : null;
        return TypedResults.Ok(new OperationsOutput(page.Select(OperationView.From).ToList(), next));
    }

    /// <summary>
    /// One operation with what PostgreSQL holds of it: each PDS a scan recorded, the records the run rejected. The
    /// operation itself comes from Redis; when PostgreSQL cannot be read, it still does, with <c>detailsError</c>.
    /// </summary>
    private static async Task<Results<Ok<DetailsOutput>, JsonHttpResult<XrpcError>>> GetBackfillDetails(
        string? id, OperationStore store, OperationDetails details, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (id is null || !Guid.TryParse(id, out var operationId))
        {
            return XrpcResults.InvalidRequest("'id' must be an operation id (a UUID)");
        }

        if (await store.GetAsync(operationId) is not { } operation)
        {
            return XrpcResults.NotFound($"no operation {operationId} (finished operations are kept for 24 hours)");
        }

        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(TimeSpan.FromSeconds(10));
            var found = await details.GetAsync(operationId, deadline.Token);
            return TypedResults.Ok(new DetailsOutput(OperationView.From(operation), found.Pdses, found.Rejections, found.RejectionsTotal, null));
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or OperationCanceledException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            loggers.CreateLogger(typeof(BackfillApi)).LogWarning(ex, "The details of operation {OperationId} could not be read from PostgreSQL", operationId);
            return TypedResults.Ok(new DetailsOutput(OperationView.From(operation), null, null, null, "the database could not be read; the operation's own record is shown"));
        }
    }

    private static async Task<Results<Ok<CancelOutput>, JsonHttpResult<XrpcError>>> CancelBackfill(HttpContext http, IRequestClient<CancelBackfill> client)
    {
        var (body, error) = await XrpcBody.ReadAsync(http);
        if (error is not null)
        {
            return error;
        }

        if (body!["id"] is not { } node || node.GetValueKind() != JsonValueKind.String || !Guid.TryParse(node.GetValue<string>(), out var id))
        {
            return XrpcResults.InvalidRequest("the body must be {\"id\": \"<operation id>\"}");
        }

        var result = (await client.GetResponse<CancelBackfillResult>(new CancelBackfill(id, StartedBy(http)), http.RequestAborted)).Message;
        return result.Status == BackfillStatus.NotFound
            ? XrpcResults.NotFound($"no operation {id}")
            : TypedResults.Ok(new CancelOutput(result.Success, id, result.Status));
    }

    private static Ok<TypesOutput> ListBackfillTypes(OperationTypeRegistry types) => TypedResults.Ok(new TypesOutput(
        BackfillOperationType.All
            .Select(type => new TypeAvailability(type, types.IsAvailable(type), types.IsAvailable(type) ? null : OperationTypeRegistry.NoWorkerReason))
            .ToList()));

    private static JsonHttpResult<XrpcError> NotAvailable(string type) =>
        XrpcResults.NotImplemented($"{type} operations have no worker yet; nothing was started");

    private static async ValueTask<object?> RequireAdmin(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var nsid = http.Request.Path.Value?["/xrpc/".Length..] ?? "";
        var authenticator = http.RequestServices.GetRequiredService<IAdminAuthenticator>();
        return await authenticator.AuthenticateAsync(http.Request, nsid, http.RequestAborted) switch
        {
            AdminAuthResult.Admin admin => await Admitted(admin),
            AdminAuthResult.Anonymous anonymous => XrpcResults.Error(StatusCodes.Status401Unauthorized, "AuthenticationRequired", anonymous.Reason),
            AdminAuthResult.InvalidToken invalid => XrpcResults.Error(StatusCodes.Status401Unauthorized, "InvalidToken", invalid.Reason),
            AdminAuthResult.Refused refused => XrpcResults.Error(StatusCodes.Status403Forbidden, "Forbidden", refused.Reason),
            _ => throw new InvalidOperationException("unknown authentication result"),
        };

        async ValueTask<object?> Admitted(AdminAuthResult.Admin admin)
        {
            http.Items[nameof(AdminAuthResult.Admin)] = admin.Label;
            return await next(context);
        }
    }

    private static string StartedBy(HttpContext http) => http.Items[nameof(AdminAuthResult.Admin)] as string ?? "unknown";

    private static string FormatCursor(BackfillOperation last) =>
        $"{last.StartedAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}_{last.CorrelationId:D}";

    private static BackfillOperation? ParseCursor(string cursor)
    {
        var parts = cursor.Split('_');
        return parts.Length == 2
               && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
               && ms <= DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()
               && Guid.TryParse(parts[1], out var id)
            ? new BackfillOperation { CorrelationId = id, StartedAt = DateTimeOffset.FromUnixTimeMilliseconds(ms) }
            : null;
    }
}
