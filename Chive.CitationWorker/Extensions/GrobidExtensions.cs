using Chive.ServiceDefaults;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Chive.CitationWorker.Extensions;

/// <summary>GROBID (<c>ConnectionStrings:grobid</c>, its base URL, e.g. <c>http://localhost:8070</c>).</summary>
internal static class GrobidExtensions
{
    public const string HttpClientName = "grobid";

    public static IHostApplicationBuilder AddGrobid(this IHostApplicationBuilder builder)
    {
        var url = BaseUrl(builder.Configuration);
        builder.Services.AddHttpClient(HttpClientName, client => client.BaseAddress = url);

        // Degraded, not unhealthy: without GROBID the worker still takes references from Crossref and Semantic
        // Scholar, and an orchestrator must not restart it because GROBID is loading its models.
        builder.Services.AddHealthChecks()
            .AddCheck<GrobidHealthCheck>(ResourceNames.Grobid, failureStatus: HealthStatus.Degraded, timeout: TimeSpan.FromSeconds(5));
        return builder;
    }

    /// <summary>GROBID's base URL, with a trailing slash so relative paths such as "api/isalive" keep any path prefix.</summary>
    public static Uri BaseUrl(IConfiguration configuration) =>
        new(configuration.GetRequiredConnectionString(ResourceNames.Grobid).TrimEnd('/') + "/");
}

/// <summary>GROBID answers <c>GET /api/isalive</c> with 200 <c>true</c> once its models are loaded.</summary>
internal sealed class GrobidHealthCheck(IHttpClientFactory httpClientFactory) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            using var client = httpClientFactory.CreateClient(GrobidExtensions.HttpClientName);
            using var response = await client.GetAsync("api/isalive", cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            return response.IsSuccessStatusCode && body.Trim().Equals("true", StringComparison.OrdinalIgnoreCase)
                ? HealthCheckResult.Healthy("GROBID is alive")
                : new HealthCheckResult(context.Registration.FailureStatus, $"GROBID answered {(int)response.StatusCode} '{body.Trim()}' to /api/isalive");
        }
        catch (HttpRequestException ex)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "GROBID is not reachable", ex);
        }
    }
}
