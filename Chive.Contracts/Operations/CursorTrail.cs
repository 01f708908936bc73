namespace Chive.Contracts.Operations;

/// <summary>
/// The cursors a listing has returned, remembered in constant space so it can travel from chunk to chunk: Brent's
/// cycle detection. Each new cursor is compared with one saved cursor, which is replaced at every power of two, so a
/// listing whose cursors come round again — a repeat, or a cycle of any length — is recognised within about twice
/// the cycle's length plus the pages before it. A listing that never repeats but never ends is for the page caps.
/// </summary>
public sealed record CursorTrail(string? Saved, int Power, int Steps)
{
    public static CursorTrail Start { get; } = new(null, 1, 0);

    /// <summary>The trail after a page that returned <paramref name="cursor"/>; <paramref name="cycle"/> when it came round.</summary>
    public CursorTrail Next(string cursor, out bool cycle)
    {
        cycle = Saved is not null && string.Equals(cursor, Saved, StringComparison.Ordinal);
        var steps = Steps + 1;
        return steps >= Power ? new CursorTrail(cursor, Power * 2, 0) : this with { Steps = steps };
    }
}
