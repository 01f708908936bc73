using Chive.Contracts.Operations;
using MassTransit;

namespace Chive.AdminApi.Operations;

/// <summary>Answers workers asking whether an operation still runs, from the operation store.</summary>
public sealed class GetBackfillStateConsumer(OperationStore store) : IConsumer<GetBackfillState>
{
    public async Task Consume(ConsumeContext<GetBackfillState> context)
    {
        var operation = await store.GetAsync(context.Message.OperationId);
        await context.RespondAsync(new BackfillState(context.Message.OperationId, operation?.Status ?? "notFound"));
    }
}
