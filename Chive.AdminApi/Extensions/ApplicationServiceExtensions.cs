using Chive.AdminApi.AdminPage;
using Chive.AdminApi.Operations;
using Chive.AtProto;
using Chive.Messaging;
using Chive.ServiceDefaults;
using Microsoft.Extensions.FileProviders;

namespace Chive.AdminApi.Extensions;

internal static class ApplicationServiceExtensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        // The administrators' list may live in a watched file of its own, so it changes without a restart. Watched by
        // polling (every 4 s), not by a FileSystemWatcher: that one watches the file's whole folder, recursively, and a
        // list kept in a busy folder (/tmp, through which every repo a scan verifies passes as a temporary file) woke
        // the AdminApi for every file written anywhere beneath it — 8 % of the services' CPU samples during a scan.
        if (builder.Configuration["Admin:DidsFile"] is { Length: > 0 } didsFile)
        {
            var path = Path.GetFullPath(didsFile);
            // Rooted at the nearest folder that exists: the file (optional) may come later, its folder with it.
            var root = Path.GetDirectoryName(path)!;
            while (!Directory.Exists(root) && Path.GetDirectoryName(root) is { } parent)
            {
                root = parent;
            }

            builder.Configuration.AddJsonFile(source =>
            {
                source.FileProvider = new PhysicalFileProvider(root) { UsePollingFileWatcher = true, UseActivePolling = true };
                source.Path = Path.GetRelativePath(root, path);
                source.Optional = true;
                source.ReloadOnChange = true;
            });
        }

        builder.AddOperationStore();
        builder.AddOperationDetails();
        builder.AddOperationServices();
        // The SSRF guard checks a pdsUrl given to a trigger at once; the DID resolver finds the keys of service-auth tokens.
        builder.AddAtProtoClient();
        builder.AddAdminPage();
        builder.AddChiveMessaging(bus => bus.AddOperations());
        // XRPC outputs leave optional fields out rather than sending null.
        builder.Services.ConfigureHttpJsonOptions(o =>
            o.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull);
        return builder;
    }

    /// <summary>
    /// PostgreSQL, read for the detail view only (what each PDS of a scan gave, the records a run rejected). Without a
    /// health check of its own: triggering, listing and cancelling never touch it, and must not be called unhealthy
    /// when it is down — the detail view then says so.
    /// </summary>
    private static IHostApplicationBuilder AddOperationDetails(this IHostApplicationBuilder builder)
    {
        builder.Configuration.GetRequiredConnectionString(ResourceNames.Database);
        builder.AddNpgsqlDataSource(ResourceNames.Database, settings => settings.DisableHealthChecks = true);
        builder.Services.AddSingleton<OperationDetails>();
        return builder;
    }

    /// <summary>Redis holds the operation records (the saga instances) and their 24-hour history.</summary>
    private static IHostApplicationBuilder AddOperationStore(this IHostApplicationBuilder builder)
    {
        builder.Configuration.GetRequiredConnectionString(ResourceNames.Redis);
        builder.AddRedisClient(ResourceNames.Redis);
        return builder;
    }
}
