namespace Chive.Contracts.Operations;

/// <summary>
/// A unit of an operation's work, sent to a worker. Every message that carries work implements this, so that one
/// rule covers them all: a work message that exhausts its retries fails its operation.
/// </summary>
public interface IOperationWork
{
    Guid OperationId { get; }
}
