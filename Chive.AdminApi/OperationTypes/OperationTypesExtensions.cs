using Chive.AtProto.Net;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Chive.AdminApi.OperationTypes;

public static class OperationTypesExtensions
{
    /// <summary>The operation types that have a worker: one line each. A type not listed here answers 501.</summary>
    public static IServiceCollection AddOperationTypes(this IServiceCollection services)
    {
        // The pdsUrl of a PDS scan is checked by the SSRF guard; the host's configured guard (AtProto:Ssrf) wins over this.
        services.TryAddSingleton(SsrfGuard.Strict);
        return services.AddTypes();
    }

    private static IServiceCollection AddTypes(this IServiceCollection services) => services
        .AddOperationType<GovernanceSyncType>()
        .AddOperationType<PdsScanType>()
        .AddOperationType<DidSyncType>()
        .AddOperationType<FullReindexType>()
        .AddOperationType<FreshnessScanType>()
        .AddOperationType<CitationExtractionType>()
        .AddSingleton<OperationTypeRegistry>();

    private static IServiceCollection AddOperationType<T>(this IServiceCollection services) where T : class, IOperationType =>
        services.AddSingleton<IOperationType, T>();
}
