using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Chive.Tests.Doubles;

/// <summary>
/// Elasticsearch 9 as far as Chive uses it so far: <c>GET /</c> (node info) and <c>GET /_cluster/health</c>, with
/// the <c>X-Elastic-Product: Elasticsearch</c> header that Elastic's client requires on every response.
/// Does not check: query parameters such as <c>wait_for_status</c> (it answers at once), authentication, and
/// anything of indices, mappings, documents or search — those routes arrive with the issues that use them.
/// Set <see cref="Status"/> to "red" to simulate a broken cluster.
/// </summary>
public sealed class ElasticsearchDouble : HttpDouble
{
    public string Status { get; set; } = "green";

    public static async Task<ElasticsearchDouble> StartNewAsync()
    {
        var server = new ElasticsearchDouble();
        await server.StartAsync();
        return server;
    }

    protected override void Map(WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            context.Response.Headers["X-Elastic-Product"] = "Elasticsearch";
            await next(context);
        });

        app.MapGet("/", () => Results.Json(new
        {
            name = "chive-test-double",
            cluster_name = "chive-test",
            cluster_uuid = "chive-test-cluster-uuid",
            version = new
            {
                number = "9.1.5",
                build_flavor = "default",
                build_type = "docker",
                lucene_version = "10.2.2",
                minimum_wire_compatibility_version = "8.19.0",
                minimum_index_compatibility_version = "8.0.0",
            },
            tagline = "You Know, for Search",
        }));

        app.MapGet("/_cluster/health", () => Results.Json(new
        {
            cluster_name = "chive-test",
            status = Status,
            timed_out = false,
            number_of_nodes = 1,
            number_of_data_nodes = 1,
            active_primary_shards = 0,
            active_shards = 0,
            relocating_shards = 0,
            initializing_shards = 0,
            unassigned_shards = 0,
            unassigned_primary_shards = 0,
            delayed_unassigned_shards = 0,
            number_of_pending_tasks = 0,
            number_of_in_flight_fetch = 0,
            task_max_waiting_in_queue_millis = 0,
            active_shards_percent_as_number = 100.0,
        }));
    }
}
