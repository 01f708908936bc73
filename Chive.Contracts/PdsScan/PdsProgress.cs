using Chive.Contracts.Operations;

namespace Chive.Contracts.PdsScan;

/// <summary>
/// What a scan lane has read of its current PDS: requests (pages) sent to it, repos listed, records read, and the trail
/// of its <c>listRepos</c> cursors — checked against the per-PDS caps and for cycles, so no PDS can keep a scan going
/// for ever. <paramref name="Unverified"/>: why the first of its repos whose CAR did not verify was refused (the PDS is
/// charged one failure for it when its scan ends). <paramref name="Confirmed"/>: records of repos confirmed without being
/// read (their verified commit listed again) — counted for the registry, not against the records cap.
/// </summary>
public sealed record PdsProgress(long Pages, long Repos, long Records, CursorTrail Trail, string? Unverified = null, long Confirmed = 0)
{
    /// <summary>The PDS's Chive records as this scan found them: read, or confirmed unread.</summary>
    public long ChiveRecords() => Records + Confirmed;

    public static PdsProgress Zero { get; } = new(0, 0, 0, CursorTrail.Start);
}
