using Chive.AtProto;
using Chive.Messaging;
using Chive.Storage;

namespace Chive.ScanWorker.Extensions;

internal static class ApplicationServiceExtensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddChiveDatabase();
        builder.AddChiveMessaging();
        builder.AddAtProtoClient();
        return builder;
    }
}
