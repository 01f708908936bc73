using Chive.IndexWorker.Search;
using MassTransit;

namespace Chive.IndexWorker.Indexing;

/// <summary>
/// The retry policy of record batches and sweeps: database and Elasticsearch outages get a minute of retries with
/// growing intervals before the message faults (and the fault fails the operation); anything else faults at once.
/// Publishes leave only when the batch committed (in-memory outbox).
/// </summary>
internal static class IndexingRetry
{
    public static void Configure(IReceiveEndpointConfigurator endpoint, IRegistrationContext context)
    {
        endpoint.UseMessageRetry(r =>
        {
            r.Intervals(200, 1000, 2000, 5000, 10000, 15000, 30000);
            // The database unreachable or busy: worth a retry. A data error is not (records are isolated before it could be one).
            r.Handle<Npgsql.NpgsqlException>(e => e.IsTransient || e is not Npgsql.PostgresException);
            r.Handle<SearchUnavailableException>();
            r.Handle<TimeoutException>();
        });
        endpoint.UseInMemoryOutbox(context);
    }
}
