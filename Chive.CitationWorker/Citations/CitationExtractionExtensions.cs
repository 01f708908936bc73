using MassTransit;

namespace Chive.CitationWorker.Citations;

internal static class CitationExtractionExtensions
{
    public static void AddCitationExtraction(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<StartCitationExtractionConsumer, StartCitationExtractionConsumerDefinition>();
        bus.AddConsumer<CitationChunkConsumer, CitationChunkConsumerDefinition>();
    }

    public static IHostApplicationBuilder AddCitationExtractionServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<CitationOptions>().BindConfiguration(CitationOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<GrobidOptions>().BindConfiguration(GrobidOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<SemanticScholarOptions>().BindConfiguration(SemanticScholarOptions.SectionName)
            .PostConfigure(o => o.ApiKey = AppHostParameter.ValueOrNull(o.ApiKey)).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<CrossrefOptions>().BindConfiguration(CrossrefOptions.SectionName)
            .PostConfigure(o => o.Mailto = AppHostParameter.ValueOrNull(o.Mailto)).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<EprintSource>();
        builder.Services.AddSingleton<LookupCache>();
        builder.Services.AddSingleton<DocumentFetcher>();
        builder.Services.AddSingleton<GrobidClient>();
        builder.Services.AddSingleton<SemanticScholarClient>();
        builder.Services.AddSingleton<CrossrefClient>();
        builder.Services.AddSingleton<CitationStore>();
        builder.Services.AddSingleton<CitationMetrics>();
        builder.Services.AddSingleton<CitationExtractor>();
        builder.Services.AddHostedService<CrossrefContactCheck>();
        return builder;
    }
}

/// <summary>Says at start-up, once, that Crossref will put us in its public pool (5 requests/s, one at a time) without a contact.</summary>
internal sealed class CrossrefContactCheck(Microsoft.Extensions.Options.IOptions<CrossrefOptions> options, ILogger<CrossrefContactCheck> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(options.Value.Mailto))
        {
            logger.LogWarning("Citations:Crossref:Mailto is not set: Crossref puts anonymous clients in its public pool (5 requests/s, 1 at a time); "
                + "set a contact address (AppHost parameter crossref-mailto) to be in the polite pool");
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
