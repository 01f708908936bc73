using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace Chive.AdminApi.Apis;

/// <summary>
/// The JSON object body of an XRPC procedure, or the XRPC error that says what is wrong with it: a body other than
/// <c>application/json</c> (400), over <see cref="MaxBytes"/> (413 <c>PayloadTooLarge</c>), not JSON or not an object (400).
/// </summary>
internal static class XrpcBody
{
    /// <summary>The largest request body read: admin inputs are a few fields.</summary>
    public const int MaxBytes = 64 * 1024;

    /// <summary>
    /// Reads the body. With <paramref name="allowEmpty"/>, no body at all (no content, whatever the content type) is
    /// the empty object — the typed triggers take optional fields only.
    /// </summary>
    public static async Task<(JsonObject? Body, JsonHttpResult<XrpcError>? Error)> ReadAsync(HttpContext http, bool allowEmpty = false)
    {
        var request = http.Request;
        if (request.ContentLength > MaxBytes)
        {
            return (null, TooLarge());
        }

        if (allowEmpty && request.ContentLength is 0 or null && !request.Headers.TransferEncoding.Any())
        {
            return ([], null);
        }

        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var type) || !type.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase))
        {
            return (null, XrpcResults.InvalidRequest(
                $"wrong request encoding (Content-Type: {(string.IsNullOrEmpty(request.ContentType) ? "none" : request.ContentType)}); send application/json"));
        }

        var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, http.RequestAborted)) > 0)
        {
            if (buffer.Length + read > MaxBytes)
            {
                return (null, TooLarge());
            }

            buffer.Write(chunk, 0, read);
        }

        if (buffer.Length == 0)
        {
            return allowEmpty ? ([], null) : (null, XrpcResults.InvalidRequest("the body must be a JSON object"));
        }

        try
        {
            return JsonNode.Parse(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)) is JsonObject body
                ? (body, null)
                : (null, XrpcResults.InvalidRequest("the body must be a JSON object"));
        }
        catch (JsonException ex)
        {
            return (null, XrpcResults.InvalidRequest($"the body is not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1})"));
        }
    }

    private static JsonHttpResult<XrpcError> TooLarge() =>
        XrpcResults.Error(StatusCodes.Status413PayloadTooLarge, "PayloadTooLarge", $"the body is larger than {MaxBytes} bytes");
}
