using System.Net;
using System.Text.Json;
using Chive.ServiceDefaults;
using Chive.Tests.Infrastructure;

namespace Chive.Tests.Foundation;

/// <summary>
/// Each service's /health tells the truth about the dependencies it uses: a dependency taken down (its proxy cut)
/// turns /health unhealthy (503) with that check named, /alive stays 200, and /health recovers when it returns.
/// </summary>
[Collection(ChiveAppCollection.Name)]
public sealed class HealthTests(ChiveAppFixture fixture)
{
    private static readonly TimeSpan ChangeTimeout = TimeSpan.FromSeconds(90);

    public static TheoryData<string, string, string> Dependencies => new()
    {
        { ResourceNames.AdminApi, "redis", "StackExchange.Redis" },
        { ResourceNames.AdminApi, "rabbitmq", ResourceNames.RabbitMq },
        { ResourceNames.ScanWorker, "postgres", "PostgreSql" },
        { ResourceNames.ScanWorker, "rabbitmq", ResourceNames.RabbitMq },
        { ResourceNames.CitationWorker, "postgres", "PostgreSql" },
        { ResourceNames.CitationWorker, "rabbitmq", ResourceNames.RabbitMq },
        { ResourceNames.IndexWorker, "postgres", "PostgreSql" },
        { ResourceNames.IndexWorker, "rabbitmq", ResourceNames.RabbitMq },
        { ResourceNames.IndexWorker, "elasticsearch", ResourceNames.Elasticsearch },
    };

    [Theory]
    [MemberData(nameof(Dependencies))]
    public async Task Health_is_unhealthy_while_a_dependency_is_down_and_recovers_after(string service, string dependency, string checkName)
    {
        var proxy = ProxyFor(dependency);
        using var client = fixture.CreateClient(service);
        await WaitForHealthAsync(client, HttpStatusCode.OK, "Healthy", checkName: null);

        try
        {
            proxy.Cut();
            var report = await WaitForHealthAsync(client, HttpStatusCode.ServiceUnavailable, "Unhealthy", checkName);
            Assert.Equal("Unhealthy", report.GetProperty("checks").GetProperty(checkName).GetProperty("status").GetString());

            using var alive = await client.GetAsync("/alive");
            Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        }
        finally
        {
            proxy.Restore();
        }

        await WaitForHealthAsync(client, HttpStatusCode.OK, "Healthy", checkName: null);
    }

    [Fact]
    public async Task Citation_worker_is_degraded_not_unhealthy_while_GROBID_is_down()
    {
        using var client = fixture.CreateClient(ResourceNames.CitationWorker);
        await WaitForHealthAsync(client, HttpStatusCode.OK, "Healthy", checkName: null);

        try
        {
            fixture.Grobid.Cut();
            var report = await WaitForHealthAsync(client, HttpStatusCode.OK, "Degraded", ResourceNames.Grobid);
            Assert.Equal("Degraded", report.GetProperty("checks").GetProperty(ResourceNames.Grobid).GetProperty("status").GetString());
        }
        finally
        {
            fixture.Grobid.Restore();
        }

        await WaitForHealthAsync(client, HttpStatusCode.OK, "Healthy", checkName: null);
    }

    private TcpProxy ProxyFor(string dependency) => dependency switch
    {
        "postgres" => fixture.Postgres,
        "redis" => fixture.Redis,
        "rabbitmq" => fixture.RabbitMq,
        "elasticsearch" => fixture.Elasticsearch,
        _ => throw new ArgumentOutOfRangeException(nameof(dependency)),
    };

    /// <summary>Polls /health until it answers <paramref name="status"/> with the given overall status; returns the report.</summary>
    private static async Task<JsonElement> WaitForHealthAsync(HttpClient client, HttpStatusCode status, string overall, string? checkName)
    {
        var deadline = DateTime.UtcNow + ChangeTimeout;
        var last = "(no answer)";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var response = await client.GetAsync("/health").WaitAsync(TimeSpan.FromSeconds(20));
                last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
                if (response.StatusCode == status)
                {
                    var report = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
                    if (report.GetProperty("status").GetString() == overall
                        && (checkName is null || report.GetProperty("checks").TryGetProperty(checkName, out _)))
                    {
                        return report;
                    }
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TimeoutException or TaskCanceledException)
            {
                last = ex.Message;
            }

            await Task.Delay(500);
        }

        throw new Xunit.Sdk.XunitException($"/health did not become {(int)status} {overall} within {ChangeTimeout}; last answer: {last}");
    }
}
