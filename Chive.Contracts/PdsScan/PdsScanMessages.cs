namespace Chive.Contracts.PdsScan;

/// <summary>
/// First unit of a PDS scan: claim the PDSes to scan (<paramref name="PdsUrl"/> only, registered if unknown, or up to
/// the configured number of due PDSes) and start one lane per unit of concurrency.
/// </summary>
public sealed record StartPdsScan(Guid OperationId, string? PdsUrl);

/// <summary>First unit of a DID sync: resolve <paramref name="Did"/> to its PDS, register the PDS, scan that one repo.</summary>
public sealed record StartDidSync(Guid OperationId, string Did);

/// <summary>
/// One bounded unit of a scan lane: one <c>listRepos</c> page of the lane's current PDS (<see cref="Pdses"/>[0]) at
/// <see cref="Cursor"/> (null = first page), or, when <see cref="Did"/> is set, that single repo. A lane scans its PDSes
/// one after the other, so an operation never has more PDSes in flight than it has lanes. The counters are the lane's
/// running totals, carried from chunk to chunk; <see cref="Sequence"/> numbers the chunks of the lane (for logs and traces).
/// </summary>
public sealed record ScanPdsChunk(
    Guid OperationId,
    int Lane,
    int Lanes,
    IReadOnlyList<string> Pdses,
    string? Did,
    string? Cursor,
    int Sequence,
    ScanTotals Totals,
    long PdsRecords);

/// <summary>A lane's running totals (monotonic: a later report of the same lane never has smaller numbers).</summary>
public sealed record ScanTotals(
    long ReposKnown,
    long ReposDone,
    long ReposSkipped,
    long BatchesSent,
    long RecordsListed,
    int PdsesScanned,
    int PdsesFailed);

/// <summary>
/// A scan lane's fact for the saga: its totals so far, and whether it has finished all its PDSes.
/// <paramref name="Lanes"/> is the operation's number of lanes; the scan is finished when that many lanes have finished.
/// </summary>
public sealed record ScanLaneProgressed(Guid OperationId, int Lane, int Lanes, ScanTotals Totals, bool Finished);
