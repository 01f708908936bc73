using Chive.IndexWorker.Indexing;
using Chive.IndexWorker.Reindex;
using Chive.IndexWorker.Search;
using Chive.Messaging;
using Chive.Storage;
using MassTransit;

namespace Chive.IndexWorker.Extensions;

internal static class ApplicationServiceExtensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddChiveDatabase();
        builder.AddChiveMessaging(bus =>
        {
            bus.AddOperationWork();
            bus.AddFullReindex();
            bus.AddConsumer<IndexRecordsConsumer, IndexRecordsConsumerDefinition>();
            bus.AddConsumer<SweepCollectionConsumer, SweepCollectionConsumerDefinition>();
            bus.AddConsumer<RepoSyncedConsumer, RepoSyncedConsumerDefinition>();
            bus.AddConsumer<RemoveRepoConsumer, RemoveRepoConsumerDefinition>();
        });
        builder.AddSearch();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<RecordIndexer>();
        builder.Services.AddSingleton<SearchWriter>();
        builder.Services.AddSingleton<IndexBatchProcessor>();
        builder.Services.AddOptions<LedgerOptions>().BindConfiguration(LedgerOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddHostedService<LedgerPruning>();
        builder.AddFullReindexServices();
        return builder;
    }
}
