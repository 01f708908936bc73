using System.Globalization;
using System.Text.Json.Nodes;
using Chive.AdminApi.Operations;
using Chive.AtProto.Identifiers;
using Chive.Contracts;
using Chive.Contracts.Citations;
using MassTransit;

namespace Chive.AdminApi.OperationTypes;

/// <summary>
/// Citation extraction: <c>{uri?, force?}</c> — without <c>uri</c> every live eprint, with it the one submission it
/// names (whether we hold it is the worker's to say: the API has no database). <c>force</c> extracts again even an
/// eprint whose document has not changed since its last successful extraction. One run per scope (the URI, or all).
/// </summary>
public sealed class CitationExtractionType : IOperationType
{
    public const string UriField = "uri";
    public const string ForceField = "force";
    public const string SubmissionCollection = "pub.chive.eprint.submission";

    public string Name => BackfillOperationType.CitationExtraction;

    public string InputHint =>
        $"the body must be {{}} or {{\"uri\": \"at://did/{SubmissionCollection}/rkey\", \"force\": true|false}} (uri: the AT-URI of an eprint submission)";

    public ValueTask<InputCheck> CheckInputAsync(JsonObject input, CancellationToken cancellationToken)
    {
        var uri = InputFields.String(input, UriField);
        var force = InputFields.Boolean(input, ForceField);
        if (!uri.IsValid || !force.IsValid)
        {
            return ValueTask.FromResult(InputCheck.Refuse());
        }

        var metadata = new Dictionary<string, string> { [ForceField] = (force.IsPresent && force.Value).ToString(CultureInfo.InvariantCulture).ToLowerInvariant() };
        if (!uri.IsPresent)
        {
            return ValueTask.FromResult(InputCheck.Accept(OperationInput.Everything, metadata));
        }

        if (!AtUri.TryParse(uri.Value, out var parsed, out _))
        {
            return ValueTask.FromResult(InputCheck.Refuse());
        }

        if (parsed.Collection.Value != SubmissionCollection)
        {
            return ValueTask.FromResult(InputCheck.Refuse($"uri must name an eprint ({SubmissionCollection}), not {parsed.Collection.Value}"));
        }

        metadata[UriField] = parsed.Value;
        return ValueTask.FromResult(InputCheck.Accept(parsed.Value, metadata));
    }

    public Task StartAsync(IPublishEndpoint publish, BackfillOperation operation) =>
        publish.Publish(new StartCitationExtraction(
            operation.CorrelationId,
            operation.Metadata.GetValueOrDefault(UriField),
            Force: operation.Metadata.GetValueOrDefault(ForceField) == "true"));
}
