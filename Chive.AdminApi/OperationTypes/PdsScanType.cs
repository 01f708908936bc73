using System.Text.Json.Nodes;
using Chive.AdminApi.Operations;
using Chive.AtProto.Net;
using Chive.Contracts;
using Chive.Contracts.PdsScan;
using MassTransit;

namespace Chive.AdminApi.OperationTypes;

/// <summary>
/// PDS scan: <c>{}</c> scans the due PDSes (scope <c>*</c>); <c>{pdsUrl}</c> scans that one PDS (scope = its origin), so a
/// scan of one PDS neither waits for nor blocks a scan of the due PDSes.
/// </summary>
public sealed class PdsScanType : IOperationType
{
    public const string PdsUrl = "pdsUrl";

    public string Name => BackfillOperationType.PdsScan;

    public string InputHint => "the body must be {} or {\"pdsUrl\": \"https://pds.example\"}: a PDS origin, http(s)://host[:port], without a path";

    public ValueTask<InputCheck> CheckInputAsync(JsonObject input, CancellationToken cancellationToken)
    {
        var url = InputFields.String(input, PdsUrl);
        if (!url.IsPresent)
        {
            return ValueTask.FromResult(InputCheck.Accept(OperationInput.Everything));
        }

        return ValueTask.FromResult(url.IsValid
                                    && Uri.TryCreate(url.Value, UriKind.Absolute, out var uri)
                                    && ServiceOrigin.TryNormalize(uri, out var origin)
            ? InputCheck.Accept(origin, new Dictionary<string, string> { [PdsUrl] = origin })
            : InputCheck.Refuse());
    }

    public Task StartAsync(IPublishEndpoint publish, BackfillOperation operation) =>
        publish.Publish(new StartPdsScan(operation.CorrelationId, operation.Metadata.GetValueOrDefault(PdsUrl)));
}
