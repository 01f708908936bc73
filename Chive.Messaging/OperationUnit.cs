namespace Chive.Messaging;

/// <summary>
/// The tokens of one unit of work: <see cref="Cancelled"/> trips when the operation is cancelled (on any instance);
/// <see cref="Token"/> also trips when the consumer itself is stopped. Pass <see cref="Token"/> to requests and
/// writes; test <see cref="IsCancelled"/> before anything that must not happen after a cancel.
/// </summary>
public readonly record struct OperationUnit(CancellationToken Cancelled, CancellationToken Token)
{
    public bool IsCancelled => Cancelled.IsCancellationRequested;
}
