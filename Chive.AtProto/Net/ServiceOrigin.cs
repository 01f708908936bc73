namespace Chive.AtProto.Net;

/// <summary>A service's origin (a PDS's URL): <c>https://Host:443/</c> → <c>https://host</c>.</summary>
public static class ServiceOrigin
{
    /// <summary>The normalized origin; anything but a bare http(s) origin (no path, query or user info) is refused.</summary>
    public static string Normalize(Uri url) => TryNormalize(url, out var origin)
        ? origin
        : throw new ArgumentException($"'{url}' is not a service origin (http(s)://host[:port])", nameof(url));

    public static bool TryNormalize(Uri? url, out string origin)
    {
        origin = "";
        if (url is null || !url.IsAbsoluteUri || url.Scheme is not ("http" or "https") || url.AbsolutePath.Trim('/').Length > 0
            || !string.IsNullOrEmpty(url.Query) || !string.IsNullOrEmpty(url.UserInfo) || !string.IsNullOrEmpty(url.Fragment))
        {
            return false;
        }

        origin = url.GetLeftPart(UriPartial.Authority).ToLowerInvariant();
        return true;
    }
}
