using Chive.Contracts.Operations;

namespace Chive.Contracts.PdsScan;

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
    long PdsRecords) : IOperationWork;
