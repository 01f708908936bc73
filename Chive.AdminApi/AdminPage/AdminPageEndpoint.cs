using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace Chive.AdminApi.AdminPage;

/// <summary>Settings under <c>AdminPage</c>.</summary>
public sealed class AdminPageOptions
{
    public const string SectionName = "AdminPage";

    /// <summary>How often the page polls <c>getBackfillStatus</c> while visible (default 2 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00.200", "00:10:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);
}

/// <summary>
/// <c>GET /admin/backfill</c>: the operators' page, one self-contained HTML file (<c>AdminPage/backfill.html</c>, inline
/// style and script, no CDN). The page itself is public — it holds no data; every XRPC call it makes carries the
/// operator key. Served with a per-response nonce in a strict Content-Security-Policy.
/// </summary>
public static class AdminPageEndpoint
{
    private static readonly Lazy<string> Template = new(() =>
    {
        using var stream = typeof(AdminPageEndpoint).Assembly.GetManifestResourceStream("backfill.html")
            ?? throw new InvalidOperationException("the backfill page is not embedded");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    public static IHostApplicationBuilder AddAdminPage(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AdminPageOptions>().BindConfiguration(AdminPageOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        return builder;
    }

    public static IEndpointRouteBuilder MapAdminPage(this IEndpointRouteBuilder app)
    {
        app.MapGet("/admin/backfill", (HttpContext http, IOptions<AdminPageOptions> options) =>
        {
            var nonce = Convert.ToBase64String(RandomNumberGenerator.GetBytes(18));
            var headers = http.Response.Headers;
            headers.ContentSecurityPolicy =
                $"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; connect-src 'self'; img-src data:; " +
                "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
            headers.CacheControl = "no-store";
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            var html = Template.Value
                .Replace("{{nonce}}", nonce, StringComparison.Ordinal)
                .Replace("{{pollMs}}", ((int)options.Value.PollInterval.TotalMilliseconds).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
            return Results.Content(html, "text/html; charset=utf-8");
        });
        return app;
    }
}
