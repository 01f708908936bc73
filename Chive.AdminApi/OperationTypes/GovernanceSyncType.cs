using System.Text.Json.Nodes;
using Chive.AdminApi.Operations;
using Chive.Contracts;
using Chive.Contracts.GovernanceSync;
using MassTransit;

namespace Chive.AdminApi.OperationTypes;

/// <summary>
/// Governance sync: <c>{}</c>, or <c>{"force": true}</c> to let the sync remove more than
/// <c>Governance:MaxRemovedShare</c> of the graph (after the governance repo really lost records); one at a time.
/// Starts with the first page of graph nodes.
/// </summary>
public sealed class GovernanceSyncType : IOperationType
{
    public const string Force = "force";

    public string Name => BackfillOperationType.GovernanceSync;

    public string InputHint => "the body must be {} or {\"force\": true}";

    public ValueTask<InputCheck> CheckInputAsync(JsonObject input, CancellationToken cancellationToken)
    {
        var force = InputFields.Boolean(input, Force);
        return ValueTask.FromResult(!force.IsValid ? InputCheck.Refuse()
            : force.Value ? InputCheck.Accept(OperationInput.Everything, new Dictionary<string, string> { [Force] = "true" })
            : InputCheck.Accept(OperationInput.Everything));
    }

    public Task StartAsync(IPublishEndpoint publish, BackfillOperation operation) =>
        publish.Publish(new SyncGovernanceChunk(operation.CorrelationId, GovernanceCollections.Node, Cursor: null, Written: 0, Invalid: 0,
            Force: operation.Metadata.GetValueOrDefault(Force) == "true"));
}
