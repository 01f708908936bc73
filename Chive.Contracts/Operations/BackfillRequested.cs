namespace Chive.Contracts.Operations;

/// <summary>
/// The API asks the operation saga to start an operation (request; answered with <see cref="BackfillAccepted"/>).
/// <paramref name="Scope"/> is what makes two runs "the same" (the DID for didSync, "*" for the others).
/// </summary>
public sealed record BackfillRequested(
    Guid OperationId,
    string Type,
    string Scope,
    string StartedBy,
    IReadOnlyDictionary<string, string> Metadata,
    DateTimeOffset RequestedAt);
