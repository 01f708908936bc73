using System.Text.Json.Nodes;
using Chive.AdminApi.Operations;
using Chive.Contracts;
using Chive.Contracts.FreshnessScan;
using Chive.Contracts.Indexing;
using Chive.Contracts.PdsScan;
using MassTransit;

namespace Chive.AdminApi.OperationTypes;

/// <summary>
/// Freshness scan: <c>{tier?}</c> — <c>urgent</c>, <c>recent</c>, <c>normal</c>, <c>background</c>, <c>all</c>, or none
/// for everything due. One running scan per tier (scope = the tier, or <c>due</c>).
/// </summary>
public sealed class FreshnessScanType : IOperationType
{
    public const string Tier = "tier";

    public string Name => BackfillOperationType.FreshnessScan;

    public string InputHint => $"the body must be {{}} or {{\"tier\": \"…\"}} with a tier of {string.Join(", ", FreshnessTiers.Named)}";

    public ValueTask<InputCheck> CheckInputAsync(JsonObject input, CancellationToken cancellationToken)
    {
        var tier = InputFields.String(input, Tier);
        if (!tier.IsPresent)
        {
            return ValueTask.FromResult(InputCheck.Accept(FreshnessTiers.Due, new Dictionary<string, string> { [Tier] = FreshnessTiers.Due }));
        }

        return ValueTask.FromResult(tier.IsValid && FreshnessTiers.Named.Contains(tier.Value!)
            ? InputCheck.Accept(tier.Value!, new Dictionary<string, string> { [Tier] = tier.Value! })
            : InputCheck.Refuse());
    }

    public Task StartAsync(IPublishEndpoint publish, BackfillOperation operation) =>
        publish.Publish(new StartFreshnessScan(operation.CorrelationId, operation.Metadata.GetValueOrDefault(Tier) ?? FreshnessTiers.Due));

    /// <summary>Repos stale, checked, and how each ended; records confirmed or re-read, updated, added, deleted.</summary>
    public IReadOnlyDictionary<string, long> DescribeScan(ScanTotals lanes, RecordsIndexed indexed) => new Dictionary<string, long>
    {
        ["reposStale"] = lanes.ReposKnown,
        ["reposChecked"] = lanes.ReposDone + lanes.ReposSkipped,
        ["reposUnchanged"] = lanes.ReposUnchanged,
        ["reposUnreachable"] = lanes.ReposUnreachable,
        ["reposMoved"] = lanes.ReposMoved,
        ["reposDeactivated"] = lanes.ReposDeactivated,
        ["reposGone"] = lanes.ReposGone,
        ["reposUnverified"] = lanes.ReposUnverified,
        ["recordsUpdated"] = indexed.Changed - indexed.Added,
        ["recordsAdded"] = indexed.Added,
        ["recordsDeleted"] = indexed.Deleted,
        ["invalidRecords"] = indexed.Invalid,
        ["searchErrors"] = indexed.SearchErrors,
    };
}
