using System.Globalization;
using System.Text.Json;
using Chive.AtProto.Xrpc;

namespace Chive.AtProto.Identity;

/// <summary>One line of the PLC directory's export: a DID's operation, when the directory accepted it, and the PDS it names.</summary>
public sealed record PlcExportEntry(string Did, DateTimeOffset CreatedAt, string? PdsEndpoint, bool Nullified);

/// <summary>
/// One page of the export: its valid entries in the directory's order, the lines it refused (not JSON, too long, no
/// DID or time), and the time of its last valid entry — the cursor of the next page.
/// </summary>
public sealed record PlcExportPage(IReadOnlyList<PlcExportEntry> Entries, int Lines, int Invalid, DateTimeOffset? Last);

/// <summary>
/// Reads <c>GET {plc}/export?count=1000&amp;after=…</c>: every operation of every <c>did:plc</c> in the order the
/// directory accepted them, as JSON lines. Through <see cref="PoliteHttp"/> like every other request to the directory
/// (its pace, timeout, retries and SSRF guard); a page is capped at <see cref="MaxPageBytes"/> and a line at
/// <see cref="MaxLineBytes"/> — the directory itself refuses operations over ~7.5 KB, so a longer line is not one.
/// </summary>
public sealed class PlcExport(PoliteHttp http, IdentityOptions options)
{
    public const string Method = "plc.export";
    public const int PageSize = 1000;
    public const long MaxPageBytes = 16 * 1024 * 1024;
    public const int MaxLineBytes = 64 * 1024;

    public async Task<PlcExportPage> ReadPageAsync(DateTimeOffset? after, CancellationToken cancellationToken)
    {
        var url = $"{options.PlcDirectoryUrl.GetLeftPart(UriPartial.Path).TrimEnd('/')}/export?count={PageSize}"
            + (after is { } time ? "&after=" + Uri.EscapeDataString(Format(time)) : "");
        var host = options.PlcDirectoryUrl.Authority.ToLowerInvariant();
        using var response = await http.GetAsync(new Uri(url), Method, cancellationToken);
        if (response.Content.Headers.ContentLength is > MaxPageBytes)
        {
            throw new XrpcException(XrpcErrorKind.ResponseTooLarge, Method, host, $"the page is {response.Content.Headers.ContentLength} bytes; the cap is {MaxPageBytes}");
        }

        await using var body = new CappedStream(await response.Content.ReadAsStreamAsync(cancellationToken), MaxPageBytes, Method, host, http.Options.RequestTimeout);
        using var buffer = new MemoryStream();
        await body.CopyToAsync(buffer, cancellationToken);
        return Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
    }

    /// <summary>The directory's time format, milliseconds in UTC (what its <c>after</c> parses).</summary>
    public static string Format(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static PlcExportPage Parse(ReadOnlyMemory<byte> page)
    {
        var entries = new List<PlcExportEntry>();
        int lines = 0, invalid = 0;
        DateTimeOffset? last = null;
        var rest = page;
        while (rest.Length > 0)
        {
            var end = rest.Span.IndexOf((byte)'\n');
            var line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? ReadOnlyMemory<byte>.Empty : rest[(end + 1)..];
            if (line.Span.Trim(" \r\t"u8).IsEmpty)
            {
                continue;
            }

            lines++;
            if (line.Length > MaxLineBytes || ParseLine(line) is not { } entry)
            {
                invalid++;
                continue;
            }

            entries.Add(entry);
            last = entry.CreatedAt;
        }

        return new PlcExportPage(entries, lines, invalid, last);
    }

    private static PlcExportEntry? ParseLine(ReadOnlyMemory<byte> line)
    {
        try
        {
            using var document = JsonDocument.Parse(line, new JsonDocumentOptions { MaxDepth = 16 });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || String(root, "did") is not { } did || !did.StartsWith("did:plc:", StringComparison.Ordinal) || did.Length > 64
                || String(root, "createdAt") is not { } created
                || !DateTimeOffset.TryParse(created, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var createdAt))
            {
                return null;
            }

            var nullified = root.TryGetProperty("nullified", out var n) && n.ValueKind == JsonValueKind.True;
            return new PlcExportEntry(did, createdAt, Endpoint(root), nullified);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// The PDS an operation names: <c>services.atproto_pds.endpoint</c> of a <c>plc_operation</c>, or <c>service</c> of a
    /// legacy <c>create</c>; null for a tombstone or anything else.
    /// </summary>
    private static string? Endpoint(JsonElement root)
    {
        if (!root.TryGetProperty("operation", out var operation) || operation.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        return String(operation, "type") switch
        {
            "plc_operation" when operation.TryGetProperty("services", out var services) && services.ValueKind == JsonValueKind.Object
                && services.TryGetProperty("atproto_pds", out var pds) && pds.ValueKind == JsonValueKind.Object => String(pds, "endpoint"),
            "create" => String(operation, "service"),
            _ => null,
        };
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
