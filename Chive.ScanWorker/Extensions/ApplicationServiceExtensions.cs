using Chive.AtProto;
using Chive.Messaging;
using Chive.ScanWorker.GovernanceSync;
using Chive.Storage;

namespace Chive.ScanWorker.Extensions;

internal static class ApplicationServiceExtensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddChiveDatabase();
        builder.AddChiveMessaging(bus =>
        {
            bus.AddOperationWork();
            bus.AddGovernanceSync();
        });
        builder.AddAtProtoClient();
        builder.AddGovernanceSyncServices();
        builder.Services.AddOptions<PdsScan.PdsRegistryOptions>().BindConfiguration(PdsScan.PdsRegistryOptions.SectionName)
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<PdsScan.PdsRegistry>();
        return builder;
    }
}
