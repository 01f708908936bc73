using MassTransit;

namespace Chive.ScanWorker.FreshnessScan;

internal static class FreshnessScanExtensions
{
    public static void AddFreshnessScan(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<StartFreshnessScanConsumer, StartFreshnessScanConsumerDefinition>();
        bus.AddConsumer<FreshnessListingConsumer, FreshnessListingConsumerDefinition>();
        bus.AddConsumer<FreshnessChunkConsumer, FreshnessChunkConsumerDefinition>();
    }

    public static IHostApplicationBuilder AddFreshnessScanServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<FreshnessOptions>().BindConfiguration(FreshnessOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<StaleRepos>();
        return builder;
    }
}
