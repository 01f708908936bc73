using Prometheus;

namespace Chive.AdminApi.Operations;

/// <summary>
/// The three backfill series, with exactly the seed's names and buckets, served on <c>/metrics</c> (Prometheus text).
/// Counted by the saga at its transitions, so each operation is counted once per status, whatever the retries.
/// </summary>
public sealed class BackfillMetrics
{
    private static readonly Counter Operations = Metrics.CreateCounter(
        "chive_backfill_operations_total", "Backfill operations by type and status (started, completed, failed, cancelled).",
        new CounterConfiguration { LabelNames = ["type", "status"] });

    private static readonly Counter Records = Metrics.CreateCounter(
        "chive_backfill_records_processed", "Records processed by finished backfill operations, by type.",
        new CounterConfiguration { LabelNames = ["type"] });

    private static readonly Histogram Duration = Metrics.CreateHistogram(
        "chive_backfill_duration_seconds", "Duration of finished backfill operations, by type.",
        new HistogramConfiguration { LabelNames = ["type"], Buckets = [1, 5, 10, 30, 60, 300, 600, 1800, 3600] });

    public void Started(BackfillOperation operation) => Operations.WithLabels(operation.Type, "started").Inc();

    public void Finished(BackfillOperation operation)
    {
        Operations.WithLabels(operation.Type, operation.Status).Inc();
        if (operation.RecordsProcessed > 0)
        {
            Records.WithLabels(operation.Type).Inc(operation.RecordsProcessed);
        }

        if (operation.CompletedAt is { } completed)
        {
            Duration.WithLabels(operation.Type).Observe(Math.Max(0, (completed - operation.StartedAt).TotalSeconds));
        }
    }
}
