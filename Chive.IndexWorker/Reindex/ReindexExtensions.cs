using MassTransit;

namespace Chive.IndexWorker.Reindex;

internal static class ReindexExtensions
{
    public static void AddFullReindex(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<StartFullReindexConsumer, StartFullReindexConsumerDefinition>();
        bus.AddConsumer<ReindexChunkConsumer, ReindexChunkConsumerDefinition>();
        bus.AddConsumer<ReindexFaultConsumer, ReindexFaultConsumerDefinition>();
    }

    public static IHostApplicationBuilder AddFullReindexServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ReindexOptions>().BindConfiguration(ReindexOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<SearchIndexes>();
        return builder;
    }
}
