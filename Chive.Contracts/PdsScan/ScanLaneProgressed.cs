namespace Chive.Contracts.PdsScan;

/// <summary>
/// A scan lane's fact for the saga: its totals so far, and whether it has finished all its PDSes.
/// <paramref name="Lanes"/> is the operation's number of lanes; the scan is finished when that many lanes have finished.
/// </summary>
public sealed record ScanLaneProgressed(Guid OperationId, int Lane, int Lanes, ScanTotals Totals, bool Finished);
