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
        builder.AddNpgsqlDataSource(ResourceNames.Database);

        builder.Services.AddOptions<DatabaseOptions>()
            .BindConfiguration(DatabaseOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<DatabaseMigrator>();
        builder.Services.AddHostedService<DatabaseMigrationService>();
        return builder;
    }

    /// <summary>
    /// Paces requests to each PDS (and the PLC directory, and did:web hosts) across every process that reads them, through
    /// <see cref="PostgresHostPacing"/>: worker replicas and the two workers together stay within one host's rate.
    /// </summary>
    public static IHostApplicationBuilder AddSharedHostPacing(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<Chive.AtProto.Xrpc.IHostPacing, PostgresHostPacing>();
        return builder;
    }
}
