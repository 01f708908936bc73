using System.Text.Json.Nodes;
using Chive.AdminApi.Operations;
using Chive.Contracts;
using Chive.Contracts.GovernanceSync;
using MassTransit;

namespace Chive.AdminApi.OperationTypes;

/// <summary>Governance sync: no input; one at a time; starts with the first page of graph nodes.</summary>
public sealed class GovernanceSyncType : IOperationType
{
    public string Name => BackfillOperationType.GovernanceSync;

    public string InputHint => "the body must be {} (governance sync takes no input)";

    public ValueTask<InputCheck> CheckInputAsync(JsonObject input, CancellationToken cancellationToken) =>
        ValueTask.FromResult(InputCheck.Accept(OperationInput.Everything));

    public Task StartAsync(IPublishEndpoint publish, BackfillOperation operation) =>
        publish.Publish(new SyncGovernanceChunk(operation.CorrelationId, GovernanceCollections.Node, Cursor: null, Written: 0, Invalid: 0));
}
