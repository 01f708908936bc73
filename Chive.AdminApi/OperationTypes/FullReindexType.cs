using System.Globalization;
using System.Text.Json.Nodes;
using Chive.AdminApi.Operations;
using Chive.Contracts;
using Chive.Contracts.Reindex;
using MassTransit;

namespace Chive.AdminApi.OperationTypes;

/// <summary>Full reindex: <c>{batchSize?}</c>, 1–10000 eprints per page (default 500, the seed's value); one at a time.</summary>
public sealed class FullReindexType : IOperationType
{
    public const string BatchSize = "batchSize";
    public const int DefaultBatchSize = 500;
    public const int MaxBatchSize = 10_000;

    public string Name => BackfillOperationType.FullReindex;

    public string InputHint => $"the body must be {{}} or {{\"batchSize\": n}} with an integer n from 1 to {MaxBatchSize}";

    public ValueTask<InputCheck> CheckInputAsync(JsonObject input, CancellationToken cancellationToken)
    {
        var size = InputFields.Integer(input, BatchSize);
        return ValueTask.FromResult(size.IsValid && (!size.IsPresent || size.Value is >= 1 and <= MaxBatchSize)
            ? InputCheck.Accept(OperationInput.Everything, new Dictionary<string, string>
            {
                [BatchSize] = (size.IsPresent ? size.Value : DefaultBatchSize).ToString(CultureInfo.InvariantCulture),
            })
            : InputCheck.Refuse());
    }

    public Task StartAsync(IPublishEndpoint publish, BackfillOperation operation) =>
        publish.Publish(new StartFullReindex(operation.CorrelationId,
            int.Parse(operation.Metadata.GetValueOrDefault(BatchSize) ?? DefaultBatchSize.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture)));
}
