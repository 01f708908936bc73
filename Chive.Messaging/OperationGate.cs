using Chive.Contracts.Operations;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace Chive.Messaging;

/// <summary>
/// What a worker needs before a unit of an operation's work: whether the operation still runs (asked of the saga's
/// store through the AdminApi), where the unit's chain stands, and the operation's cancellation token on this instance.
/// </summary>
public sealed class OperationGate(
    IRequestClient<GetOperationStatus> statuses, IOperationChains chains, OperationCancellation cancellation, ILogger<OperationGate> logger)
{
    public OperationCancellation Cancellation => cancellation;

    public IOperationChains Chains => chains;

    public ILogger Logger => logger;

    public async Task<string> StatusAsync(Guid operationId, CancellationToken cancellationToken) =>
        (await statuses.GetResponse<OperationStatusReply>(new GetOperationStatus(operationId), cancellationToken)).Message.Status;
}
