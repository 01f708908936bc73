using Chive.AdminApi.AdminPage;
using Chive.AdminApi.Operations;
using Chive.AtProto;
using Chive.Messaging;
using Chive.ServiceDefaults;

namespace Chive.AdminApi.Extensions;

internal static class ApplicationServiceExtensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddOperationStore();
        builder.AddOperationServices();
        builder.AddSsrfGuard(); // a pdsUrl given to a trigger is checked at once
        builder.AddAdminPage();
        builder.AddChiveMessaging(bus => bus.AddOperations());
        // XRPC outputs leave optional fields out rather than sending null.
        builder.Services.ConfigureHttpJsonOptions(o =>
            o.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull);
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
