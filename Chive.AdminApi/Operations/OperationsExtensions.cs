using Chive.AdminApi.Auth;
using Chive.AdminApi.OperationTypes;
using Chive.Contracts;
using Chive.Contracts.Operations;
using Chive.Messaging;
using MassTransit;
using MassTransit.Configuration;
using Microsoft.Extensions.Options;

namespace Chive.AdminApi.Operations;

public static class OperationsExtensions
{
    /// <summary>The operation saga, persisted in Redis by <see cref="OperationStore"/>, and the clients the API asks it with.</summary>
    public static void AddOperations(this IBusRegistrationConfigurator bus)
    {
        bus.AddSagaStateMachine<BackfillStateMachine, BackfillOperation, BackfillStateMachineDefinition>()
            .Repository(r => r.RegisterSagaRepository<BackfillOperation, OperationStore, OperationSagaConsumeContextFactory, OperationSagaRepositoryContextFactory>());
        bus.AddConsumer<GetOperationStatusConsumer>();
        bus.AddOperationWorkFaults();
        bus.AddRequestClient<BackfillRequested>(RequestTimeout.After(s: 30));
        bus.AddRequestClient<CancelBackfill>(RequestTimeout.After(s: 30));
    }

    public static IHostApplicationBuilder AddOperationServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<OperationsOptions>().BindConfiguration(OperationsOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<OperationStore>();
        builder.Services.AddSingleton<BackfillMetrics>();
        builder.Services.AddSingleton<IHostedService>(sp => new RunAtStart(sp.GetRequiredService<BackfillMetrics>().Baseline));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddOperationTypes();
        builder.Services.AddScoped<IOperationTrigger, OperationTrigger>();
        // Three schedules of one class: registered as plain IHostedService singletons, which AddHostedService would fold into one.
        foreach (var (type, interval) in new (string, Func<OperationsOptions, TimeSpan>)[]
                 {
                     (BackfillOperationType.GovernanceSync, o => o.GovernanceSyncInterval),
                     (BackfillOperationType.FreshnessScan, o => o.FreshnessScanInterval),
                     (BackfillOperationType.PdsScan, o => o.PdsScanInterval),
                 })
        {
            builder.Services.AddSingleton<IHostedService>(sp => new OperationScheduler(
                sp.GetRequiredService<IServiceScopeFactory>(), type, interval(sp.GetRequiredService<IOptions<OperationsOptions>>().Value),
                sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<OperationScheduler>>()));
        }

        builder.Services.AddSingleton<RedisDurabilityCheck>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RedisDurabilityCheck>());
        builder.Services.AddSingleton<OperationWatchdog>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<OperationWatchdog>());
        builder.Services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.SectionName).PostConfigure(o => o.MergeLists()).ValidateDataAnnotations()
            .Validate(o => o.ServiceDid is null or "" || Chive.AtProto.Identifiers.Did.TryParse(o.ServiceDid, out _), "Admin:ServiceDid must be a did:plc or did:web DID")
            .Validate(o => o.AdminDids.All(d => Chive.AtProto.Identifiers.Did.TryParse(d, out _)), "every Admin:AdminDids entry must be a did:plc or did:web DID")
            .Validate(o => o.ApiKeys.All(k => k.Label.Length > 0 && k.Sha256.Length == 64 && k.Sha256.All(Uri.IsHexDigit)),
                "every Admin:ApiKeys entry needs a Label and the 64 hex digits of its key's SHA-256 (Sha256); Admin:OperatorKeys is label=sha256;label=sha256")
            .ValidateOnStart();
        builder.Services.AddSingleton<ApiKeyAuthenticator>();
        builder.Services.AddSingleton<ServiceAuthAuthenticator>();
        builder.Services.AddSingleton<AdminAuthMetrics>();
        builder.Services.AddSingleton<IAdminAuthenticator, AdminAuthenticator>();
        return builder;
    }
}
