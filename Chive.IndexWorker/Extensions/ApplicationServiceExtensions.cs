using Chive.Messaging;
using Chive.Storage;

namespace Chive.IndexWorker.Extensions;

internal static class ApplicationServiceExtensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddChiveDatabase();
        builder.AddChiveMessaging();
        builder.AddSearch();
        builder.Services.AddSingleton<Indexing.RecordIndexer>();
        return builder;
    }
}
