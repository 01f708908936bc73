using System.Data.Common;
using Chive.ServiceDefaults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Chive.Storage;

public static class StorageExtensions
{
    /// <summary>
    /// PostgreSQL (<c>ConnectionStrings:chivedb</c>) through Aspire's Npgsql integration — a pooled
    /// <see cref="Npgsql.NpgsqlDataSource"/>, a health check, tracing and metrics — plus the schema migrations at
    /// start-up.
    /// </summary>
    public static IHostApplicationBuilder AddChiveDatabase(this IHostApplicationBuilder builder)
    {
        builder.Configuration.GetRequiredConnectionString(ResourceNames.Database);
        // Statements a worker sends again and again (a batch's upserts, its ledger and totals, a repo's confirmation) are
        // prepared once per connection instead of parsed and planned on every call: the eprint upsert alone was planned
        // once per eprint. A connection string that sets this itself is left as it is (behind a pooler in transaction
        // mode, for one, prepared statements must be off: Max Auto Prepare=0).
        builder.AddNpgsqlDataSource(ResourceNames.Database, settings => settings.ConnectionString = WithAutoPrepare(settings.ConnectionString));

        builder.Services.AddOptions<DatabaseOptions>()
            .BindConfiguration(DatabaseOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<DatabaseMigrator>();
        builder.Services.AddHostedService<DatabaseMigrationService>();
        return builder;
    }

    private static string? WithAutoPrepare(string? connectionString)
    {
        if (connectionString is null)
        {
            return null;
        }

        var given = new DbConnectionStringBuilder { ConnectionString = connectionString };
        if (given.ContainsKey("Max Auto Prepare") || given.ContainsKey("MaxAutoPrepare"))
        {
            return connectionString;
        }

        given["Max Auto Prepare"] = 64;
        if (!given.ContainsKey("Auto Prepare Min Usages") && !given.ContainsKey("AutoPrepareMinUsages"))
        {
            given["Auto Prepare Min Usages"] = 2;
        }

        return given.ConnectionString;
    }

    /// <summary>
    /// Paces requests to each PDS (and the PLC directory, and did:web hosts) across every process that reads them, through
    /// <see cref="PostgresHostPacing"/>: worker replicas and the two workers together stay within one host's rate. And
    /// shares the DID documents they resolve (<see cref="PostgresDidDocumentCache"/>), so the PLC directory is asked for a
    /// document once between them, not once a replica.
    /// </summary>
    public static IHostApplicationBuilder AddSharedHostPacing(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<Chive.AtProto.Xrpc.IHostPacing, PostgresHostPacing>();
        builder.Services.AddSingleton<Chive.AtProto.Identity.IDidDocumentCache, PostgresDidDocumentCache>();
        return builder;
    }
}
