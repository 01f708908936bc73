using Chive.Contracts.Operations;
using MassTransit;

namespace Chive.AdminApi.Operations;

/// <summary>Answers workers asking whether an operation still runs, from the operation store.</summary>
public sealed class GetOperationStatusConsumer(OperationStore store) : IConsumer<GetOperationStatus>
{
    public async Task Consume(ConsumeContext<GetOperationStatus> context)
    {
        var operation = await store.GetAsync(context.Message.OperationId);
        await context.RespondAsync(new OperationStatusReply(context.Message.OperationId, operation?.Status ?? BackfillStatus.NotFound));
    }
}
