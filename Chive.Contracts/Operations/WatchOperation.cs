namespace Chive.Contracts.Operations;

/// <summary>
/// The watchdog asks the saga to look at a running operation that has not been heard from for a while: the saga sends
/// its first unit of work again if no worker ever reported (the start may have been lost), or fails it as stalled when
/// nothing has been heard for the stall timeout. The saga decides; the watchdog only asks.
/// </summary>
public sealed record WatchOperation(Guid OperationId);
