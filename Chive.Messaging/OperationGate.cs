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

    /// <summary>How long one ask waits for the saga's answer, and how many asks before the unit fails.</summary>
    public static readonly TimeSpan StatusTimeout = TimeSpan.FromSeconds(10);

    public const int StatusAttempts = 3;

    /// <summary>
    /// The operation's status, asked of the saga. The question is harmless to repeat, so an answer that never came is
    /// asked for again: a worker restarted mid-operation once waited the whole default 30 s for the answer to its first
    /// question (a redelivered unit consumed before the reply could reach the new process, on a loaded machine) and the
    /// unit — and with it the operation — failed.
    /// </summary>
    public async Task<string> StatusAsync(Guid operationId, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return (await statuses.GetResponse<OperationStatusReply>(
                    new GetOperationStatus(operationId), cancellationToken, RequestTimeout.After(s: (int)StatusTimeout.TotalSeconds))).Message.Status;
            }
            catch (RequestTimeoutException) when (attempt < StatusAttempts && !cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning("Operation {OperationId}: no answer from the saga about its status within {Seconds} s; asking again ({Attempt} of {Attempts})",
                    operationId, StatusTimeout.TotalSeconds, attempt + 1, StatusAttempts);
            }
        }
    }
}
