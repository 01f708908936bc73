using Chive.Contracts.Operations;
using Npgsql;

namespace Chive.Messaging;

/// <summary>
/// The chain ledger (<c>operation_chains</c>): where each chain of an operation's units stands. A unit may run when its
/// position is the chain's current one — or when it is the very delivery that moved the chain past it (a redelivery
/// after a crash, which must be able to send its successor again). It moves the chain on, compare-and-set, just
/// before it sends its successor; a copy that finds the chain already moved by another delivery sends nothing.
/// So a start message sent twice starts once, and a chunk redelivered after its successor left dies there.
/// </summary>
public sealed class OperationChains(NpgsqlDataSource dataSource) : IOperationChains
{
    /// <summary>May this delivery of the unit at <paramref name="work"/>'s position run?</summary>
    public async Task<bool> MayRunAsync(IChainedWork work, Guid messageId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            WITH entry AS (
                INSERT INTO operation_chains (operation_id, chain, position) VALUES (@op, @chain, @position)
                ON CONFLICT (operation_id, chain) DO NOTHING
                RETURNING position, advanced_by)
            SELECT position, advanced_by FROM entry
            UNION ALL
            SELECT position, advanced_by FROM operation_chains WHERE operation_id = @op AND chain = @chain
            LIMIT 1
            """);
        command.Parameters.AddWithValue("op", work.OperationId);
        command.Parameters.AddWithValue("chain", work.Chain);
        command.Parameters.AddWithValue("position", work.Position);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var position = reader.GetInt32(0);
        var advancedBy = reader.IsDBNull(1) ? (Guid?)null : reader.GetGuid(1);
        return position <= work.Position || (position == work.Position + 1 && advancedBy == messageId);
    }

    /// <summary>
    /// Moves the chain past <paramref name="work"/>'s position for this delivery; false when another delivery already
    /// did (then this one must send nothing further).
    /// </summary>
    public async Task<bool> AdvanceAsync(IChainedWork work, Guid messageId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO operation_chains AS c (operation_id, chain, position, advanced_by) VALUES (@op, @chain, @next, @message)
            ON CONFLICT (operation_id, chain) DO UPDATE SET position = @next, advanced_by = @message, updated_at = now()
            WHERE c.position <= @position OR (c.position = @next AND c.advanced_by = @message)
            """);
        command.Parameters.AddWithValue("op", work.OperationId);
        command.Parameters.AddWithValue("chain", work.Chain);
        command.Parameters.AddWithValue("position", work.Position);
        command.Parameters.AddWithValue("next", work.Position + 1);
        command.Parameters.AddWithValue("message", messageId);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }
}
