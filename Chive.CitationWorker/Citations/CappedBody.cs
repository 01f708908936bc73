namespace Chive.CitationWorker.Citations;

/// <summary>An answer's body read whole, but never past a cap: declared (Content-Length) or not, a longer body is refused.</summary>
internal static class CappedBody
{
    /// <summary>The body, or null when it is (or declares itself) longer than <paramref name="cap"/> bytes.</summary>
    public static async Task<byte[]?> ReadAsync(HttpResponseMessage response, long cap, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength > cap)
        {
            return null;
        }

        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > cap)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}
