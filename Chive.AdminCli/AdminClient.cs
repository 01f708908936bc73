using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Chive.AdminCli;

/// <summary>
/// The XRPC calls of <c>pub.chive.admin.*</c>. Every failure becomes an <see cref="AdminCliException"/> whose exit code
/// says whether the server refused (an XRPC error it chose) or could not be used at all.
/// </summary>
public sealed class AdminClient(HttpClient http, TimeSpan timeout)
{
    private const string Prefix = "xrpc/pub.chive.admin.";

    /// <summary>An answer larger than this is not one the AdminApi sends (1,000 operations are ~1 MB).</summary>
    private const int MaxAnswerBytes = 16 * 1024 * 1024;

    public static AdminClient Create(ConnectionOptions options)
    {
        // The timeout is ours, over the whole answer (SendAsync); the client's own would stop at the headers.
        var http = new HttpClient { BaseAddress = options.Server, Timeout = Timeout.InfiniteTimeSpan };
        if (!string.IsNullOrEmpty(options.Key))
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.Key);
        }

        http.DefaultRequestHeaders.UserAgent.ParseAdd("chive-admin/1.0");
        return new AdminClient(http, options.Timeout);
    }

    public Task<JsonObject> GetAsync(string method, CancellationToken cancellationToken, params (string Name, string? Value)[] query)
    {
        var parameters = string.Join('&', query.Where(q => q.Value is not null).Select(q => $"{q.Name}={Uri.EscapeDataString(q.Value!)}"));
        return SendAsync(new HttpRequestMessage(HttpMethod.Get, Prefix + method + (parameters.Length > 0 ? "?" + parameters : "")), method, cancellationToken);
    }

    public Task<JsonObject> PostAsync(string method, JsonObject body, CancellationToken cancellationToken) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Post, Prefix + method)
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        }, method, cancellationToken);

    public async Task<Operation> GetOperationAsync(string id, CancellationToken cancellationToken) =>
        (await GetOperationAnswerAsync(id, cancellationToken)).Operation;

    /// <summary>One operation, and the answer it came in (what <c>--json</c> prints).</summary>
    public async Task<(JsonObject Answer, Operation Operation)> GetOperationAnswerAsync(string id, CancellationToken cancellationToken)
    {
        var answer = await GetAsync("getBackfillStatus", cancellationToken, ("id", id));
        return (answer, Checked(Operation.From(Object(answer, "operation", "getBackfillStatus")), "getBackfillStatus"));
    }

    public async Task<IReadOnlyList<Operation>> ListOperationsAsync(string? status, CancellationToken cancellationToken) =>
        Operations(await GetAsync("getBackfillStatus", cancellationToken, ("status", status)), "getBackfillStatus");

    public static IReadOnlyList<Operation> Operations(JsonObject answer, string method) =>
        answer["operations"] is JsonArray operations
            ? operations.Select(o => Checked(o is JsonObject json ? Operation.From(json) : null, method)).ToList()
            : throw NotXrpc(method, "it has no 'operations' list");

    /// <summary>An operation as the AdminApi describes one (an id and a status it knows), or not the AdminApi's answer.</summary>
    public static Operation Checked(Operation? operation, string method) =>
        operation is { Id.Length: > 0, Status: "running" or "completed" or "failed" or "cancelled" }
            ? operation
            : throw NotXrpc(method, "an operation in it has no id or a status the AdminApi does not use");

    public static JsonObject Object(JsonObject answer, string name, string method) =>
        answer[name] as JsonObject ?? throw NotXrpc(method, $"it has no '{name}' object");

    /// <summary>
    /// One call, answer included, within the timeout: the client's own timeout ends at the headers, and a server that
    /// sends headers and then stalls would hold the caller for ever.
    /// </summary>
    private async Task<JsonObject> SendAsync(HttpRequestMessage request, string method, CancellationToken cancellationToken)
    {
        using (request)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            HttpResponseMessage? response = null;
            JsonObject? body;
            try
            {
                response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
                body = await ReadAsync(response, method, deadline.Token);
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                response?.Dispose();
                throw new AdminCliException(ExitCodes.Unreachable, $"{http.BaseAddress} did not answer {method} within {timeout.TotalSeconds:0.###} s", e);
            }
            catch (Exception e) when (e is HttpRequestException or IOException)
            {
                response?.Dispose();
                throw new AdminCliException(ExitCodes.Unreachable, $"{http.BaseAddress} could not be reached: {Reason(e)}", e);
            }

            using (response)
            {
                if (response.IsSuccessStatusCode)
                {
                    return body ?? throw NotXrpc(method, $"HTTP {(int)response.StatusCode} without a JSON object");
                }

                var error = body?["error"] is JsonValue e && e.TryGetValue<string>(out var name) ? name : null;
                var message = body?["message"] is JsonValue m && m.TryGetValue<string>(out var text) ? text : null;
                var status = (int)response.StatusCode;
                var what = error is null ? $"HTTP {status}" : $"{error} (HTTP {status})";
                if (status >= 500 || error is null)
                {
                    // A 5xx, or a 4xx that is not an XRPC error (a proxy's page, a wrong server): nothing the AdminApi decided.
                    throw new AdminCliException(status == 501 && error is not null ? ExitCodes.Refused : ExitCodes.Unreachable,
                        $"{method}: {what}{(message is null ? "" : ": " + message)}");
                }

                throw new AdminCliException(ExitCodes.Refused, $"{method} refused: {what}{(message is null ? "" : ": " + message)}");
            }
        }
    }

    private static async Task<JsonObject?> ReadAsync(HttpResponseMessage response, string method, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength > MaxAnswerBytes)
        {
            throw NotXrpc(method, $"it is {response.Content.Headers.ContentLength} bytes");
        }

        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxAnswerBytes)
            {
                throw NotXrpc(method, $"it is over {MaxAnswerBytes} bytes");
            }

            buffer.Write(chunk, 0, read);
        }

        try
        {
            return buffer.Length == 0 ? null : JsonNode.Parse(buffer.ToArray()) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static AdminCliException NotXrpc(string method, string why) =>
        new(ExitCodes.Unreachable, $"the answer to {method} is not the AdminApi's: {why}");

    private static string Reason(Exception e) => e.InnerException switch
    {
        SocketException socket => socket.SocketErrorCode == SocketError.ConnectionRefused ? "connection refused" : socket.Message,
        { } inner => inner.Message,
        null when e is HttpRequestException { HttpRequestError: not HttpRequestError.Unknown } request => request.HttpRequestError.ToString(),
        null => e.Message,
    };
}

/// <summary>Where the AdminApi is and how to sign in, from the global options or the environment.</summary>
public sealed record ConnectionOptions(Uri Server, string? Key, TimeSpan Timeout)
{
    public const string ServerVariable = "CHIVE_ADMIN_URL";
    public const string KeyVariable = "CHIVE_ADMIN_KEY";
    public const string DefaultServer = "http://localhost:5180";
}
