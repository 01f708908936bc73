using Chive.Contracts.Operations;

namespace Chive.Contracts.PdsScan;

/// <summary>First unit of a DID sync: resolve <paramref name="Did"/> to its PDS, register the PDS, scan that one repo.</summary>
public sealed record StartDidSync(Guid OperationId, string Did) : IOperationWork;
