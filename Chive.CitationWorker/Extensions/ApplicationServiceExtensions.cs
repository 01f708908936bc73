using Chive.AtProto;
using Chive.CitationWorker.Citations;
using Chive.Messaging;
using Chive.Storage;

namespace Chive.CitationWorker.Extensions;

internal static class ApplicationServiceExtensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddChiveDatabase();
        builder.AddChiveMessaging(bus =>
        {
            bus.AddOperationWork();
            bus.AddCitationExtraction();
        });
        builder.AddAtProtoClient();
        builder.AddSharedHostPacing();
        builder.AddGrobid();
        builder.AddCitationExtractionServices();
        return builder;
    }
}
