using System.Text.Json.Nodes;
using Chive.AdminApi.Operations;
using Chive.Contracts.Indexing;
using Chive.Contracts.PdsScan;
using MassTransit;

namespace Chive.AdminApi.OperationTypes;

/// <summary>
/// One operation type, as the XRPC layer, <c>listBackfillTypes</c> and the saga see it: its name, how its trigger
/// input becomes a scope and metadata, and the first unit of work it sends. A type is available exactly when its
/// descriptor is registered (<see cref="OperationTypesExtensions.AddOperationTypes"/>).
/// </summary>
public interface IOperationType
{
    /// <summary>The type's name in the API (one of <see cref="Chive.Contracts.BackfillOperationType.All"/>).</summary>
    string Name { get; }

    /// <summary>What an acceptable input looks like; the message of a 400 when <see cref="CheckInputAsync"/> refuses without a reason of its own.</summary>
    string InputHint { get; }

    /// <summary>
    /// Checks a trigger's input (the JSON body, without <c>type</c>): its scope — what makes two runs "the same", so
    /// one runs at a time per scope — and the metadata recorded on the operation and read by <see cref="StartAsync"/>.
    /// </summary>
    ValueTask<InputCheck> CheckInputAsync(JsonObject input, CancellationToken cancellationToken);

    /// <summary>Sends the operation's first unit of work (called by the saga once the operation is recorded as running).</summary>
    Task StartAsync(IPublishEndpoint publish, BackfillOperation operation);

    /// <summary>
    /// For a type whose work reports scan lanes (<c>ScanLaneProgressed</c>): the metadata of a completed operation, from
    /// the lanes' totals and the IndexWorker's. The PDS scan's by default.
    /// </summary>
    IReadOnlyDictionary<string, long> DescribeScan(ScanTotals lanes, RecordsIndexed indexed) => ScanWork.ScanMetadata(lanes, indexed);
}

/// <summary>A checked input: the scope and metadata of the operation to start.</summary>
public sealed record OperationInput(string Scope, IReadOnlyDictionary<string, string> Metadata)
{
    /// <summary>The scope of a type that runs once at a time whatever its input.</summary>
    public const string Everything = "*";

    /// <summary>
    /// This input with the trigger's accepted body kept as metadata <c>input</c> (JSON), so "Run again" can start the
    /// same operation with the same input.
    /// </summary>
    public OperationInput WithInput(System.Text.Json.Nodes.JsonObject body) =>
        this with { Metadata = new Dictionary<string, string>(Metadata) { [BackfillOperation.InputKey] = body.ToJsonString() } };
}

/// <summary>The outcome of <see cref="IOperationType.CheckInputAsync"/>: an input, or why it was refused.</summary>
public readonly record struct InputCheck(OperationInput? Input, string? Refusal)
{
    public static InputCheck Accept(string scope, IReadOnlyDictionary<string, string>? metadata = null) =>
        new(new OperationInput(scope, metadata ?? new Dictionary<string, string>()), null);

    /// <summary>Refused; <paramref name="reason"/> null means "see the type's input hint".</summary>
    public static InputCheck Refuse(string? reason = null) => new(null, reason);
}
