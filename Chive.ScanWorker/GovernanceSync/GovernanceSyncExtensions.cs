using MassTransit;

namespace Chive.ScanWorker.GovernanceSync;

internal static class GovernanceSyncExtensions
{
    public static void AddGovernanceSync(this IBusRegistrationConfigurator bus) =>
        bus.AddConsumer<SyncGovernanceChunkConsumer, SyncGovernanceChunkConsumerDefinition>();

    public static IHostApplicationBuilder AddGovernanceSyncServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<GovernanceOptions>()
            .BindConfiguration(GovernanceOptions.SectionName)
            .PostConfigure<IConfiguration>((options, configuration) =>
            {
                if (configuration["GRAPH_PDS_URL"] is { Length: > 0 } url)
                {
                    options.PdsUrl = new Uri(url);
                }

                if (configuration["GRAPH_PDS_DID"] is { Length: > 0 } did)
                {
                    options.Did = did;
                }
            })
            .Validate(o => Chive.AtProto.Identifiers.Did.TryParse(o.Did, out _), "Governance:Did (GRAPH_PDS_DID) is not a did:plc or did:web DID")
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<GovernanceGraphStore>();
        return builder;
    }
}
