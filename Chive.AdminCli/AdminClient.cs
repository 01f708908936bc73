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
public sealed class AdminClient(HttpClient http)
{
    private const string Prefix = "xrpc/pub.chive.admin.";

    /// <summary>An answer larger than this is not one the AdminApi sends (1,000 operations are ~1 MB).</summary>
    private const int MaxAnswerBytes = 16 * 1024 * 1024;

    public static AdminClient Create(ConnectionOptions options)
    {
        var http = new HttpClient { BaseAddress = options.Server, Timeout = options.Timeout };
        if (!string.IsNullOrEmpty(options.Key))
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.Key);
        }

        http.DefaultRequestHeaders.UserAgent.ParseAdd("chive-admin/1.0");
        return new AdminClient(http);
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
        Operation.From(Object(await GetAsync("getBackfillStatus", cancellationToken, ("id", id)), "operation", "getBackfillStatus"));

    public async Task<IReadOnlyList<Operation>> ListOperationsAsync(string? status, CancellationToken cancellationToken) =>
        Operations(await GetAsync("getBackfillStatus", cancellationToken, ("status", status)), "getBackfillStatus");

    public static IReadOnlyList<Operation> Operations(JsonObject answer, string method) =>
        answer["operations"] is JsonArray operations
            ? operations.OfType<JsonObject>().Select(Operation.From).ToList()
            : throw NotXrpc(method, "it has no 'operations' list");

    public static JsonObject Object(JsonObject answer, string name, string method) =>
        answer[name] as JsonObject ?? throw NotXrpc(method, $"it has no '{name}' object");

    private async Task<JsonObject> SendAsync(HttpRequestMessage request, string method, CancellationToken cancellationToken)
    {
        using (request)
        {
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            }
            catch (HttpRequestException e)
            {
                throw new AdminCliException(ExitCodes.Unreachable, $"{http.BaseAddress} could not be reached: {Reason(e)}", e);
            }
            catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw new AdminCliException(ExitCodes.Unreachable, $"{http.BaseAddress} did not answer {method} within {http.Timeout.TotalSeconds:0} s", e);
            }

            using (response)
            {
                var body = await ReadAsync(response, method, cancellationToken);
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

    private static string Reason(HttpRequestException e) => e.InnerException switch
    {
        SocketException socket => socket.SocketErrorCode == SocketError.ConnectionRefused ? "connection refused" : socket.Message,
        { } inner => inner.Message,
        null => e.HttpRequestError == HttpRequestError.Unknown ? e.Message : e.HttpRequestError.ToString(),
    };
}

/// <summary>Where the AdminApi is and how to sign in, from the global options or the environment.</summary>
public sealed record ConnectionOptions(Uri Server, string? Key, TimeSpan Timeout)
{
    public const string ServerVariable = "CHIVE_ADMIN_URL";
    public const string KeyVariable = "CHIVE_ADMIN_KEY";
    public const string DefaultServer = "http://localhost:5180";
}
