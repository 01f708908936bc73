using Chive.AtProto.Identity;
using Chive.AtProto.Xrpc;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Chive.ScanWorker.PdsScan;

internal static class PdsScanExtensions
{
    /// <summary>PDS scan and DID sync: their start consumers and the chunk consumer both share.</summary>
    public static void AddPdsScan(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<StartPdsScanConsumer, StartPdsScanConsumerDefinition>();
        bus.AddConsumer<StartDidSyncConsumer, StartDidSyncConsumerDefinition>();
        bus.AddConsumer<ScanPdsChunkConsumer, ScanPdsChunkConsumerDefinition>();
    }

    public static IHostApplicationBuilder AddPdsScanServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<PdsRegistryOptions>().BindConfiguration(PdsRegistryOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<PdsScanOptions>().BindConfiguration(PdsScanOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<SyncOptions>().BindConfiguration(SyncOptions.SectionName).ValidateOnStart();
        builder.Services.AddOptions<DiscoveryOptions>().BindConfiguration(DiscoveryOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<PdsRegistry>();
        builder.Services.AddSingleton(sp => new PlcExport(sp.GetRequiredService<PoliteHttp>(), sp.GetRequiredService<IOptions<IdentityOptions>>().Value));
        builder.Services.AddSingleton<PdsDiscovery>();
        builder.Services.AddSingleton<IHostedService>(_ => new RunAtStart(ScanMetrics.Baseline));
        builder.Services.AddSingleton<HeldCollections>();
        builder.Services.AddSingleton<VerifiedCommits>();
        builder.Services.AddSingleton<RepoReader>();
        return builder;
    }
}
