using Npgsql;

namespace Chive.Storage;

/// <summary>How PostgreSQL's errors are told apart where it matters: the data's fault, or the server's.</summary>
public static class PostgresErrors
{
    /// <summary>
    /// An error about the data written — a value the column cannot hold (22), a constraint (23), more than one statement
    /// may do, such as an index row too large (54), the same row twice in one statement (21) — which no retry would cure,
    /// as opposed to the server being unavailable or busy.
    /// </summary>
    public static bool IsDataError(PostgresException ex) => ex.SqlState.Length >= 2 && ex.SqlState[..2] is "21" or "22" or "23" or "54";
}
