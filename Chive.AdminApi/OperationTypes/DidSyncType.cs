using System.Text.Json.Nodes;
using Chive.AdminApi.Operations;
using Chive.AtProto.Identifiers;
using Chive.Contracts;
using Chive.Contracts.PdsScan;
using MassTransit;

namespace Chive.AdminApi.OperationTypes;

/// <summary>DID sync: <c>{did}</c>, a did:plc or did:web; one sync per DID at a time (scope = the DID).</summary>
public sealed class DidSyncType : IOperationType
{
    public const string DidField = "did";

    public string Name => BackfillOperationType.DidSync;

    public string InputHint => "the body must be {\"did\": \"did:plc:… or did:web:…\"} with a valid did:plc or did:web DID";

    public ValueTask<InputCheck> CheckInputAsync(JsonObject input, CancellationToken cancellationToken)
    {
        var did = InputFields.String(input, DidField);
        return ValueTask.FromResult(did is { IsPresent: true, IsValid: true } && Did.TryParse(did.Value, out var parsed)
            ? InputCheck.Accept(parsed.Value, new Dictionary<string, string> { [DidField] = parsed.Value })
            : InputCheck.Refuse());
    }

    public Task StartAsync(IPublishEndpoint publish, BackfillOperation operation) =>
        publish.Publish(new StartDidSync(operation.CorrelationId, operation.Scope));
}
