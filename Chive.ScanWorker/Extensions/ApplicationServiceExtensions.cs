using Chive.AtProto;
using Chive.Messaging;
using Chive.ScanWorker.FreshnessScan;
using Chive.ScanWorker.GovernanceSync;
using Chive.ScanWorker.PdsScan;
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
            bus.AddPdsScan();
            bus.AddFreshnessScan();
        });
        builder.AddAtProtoClient();
        builder.AddSharedHostPacing();
        builder.AddGovernanceSyncServices();
        builder.AddPdsScanServices();
        builder.AddFreshnessScanServices();
        return builder;
    }
}
