using System.Diagnostics.Metrics;
using Chive.Contracts;
using Chive.Contracts.Operations;

namespace Chive.AdminApi.Operations;

/// <summary>
/// The backfill series, with the seed's names and buckets, recorded on the <c>Chive.AdminApi</c> meter and so exported
/// both on <c>/metrics</c> (Prometheus text) and over OTLP. Counted by the saga repository once the write that made a
/// transition is stored (<see cref="Committed"/>): a transition whose save lost a version race is run again on fresh
/// state and, the other writer having made it already, counted by nobody twice. Two gauges from the watchdog's look
/// at the running operations say what is running and how long the quietest one has been silent.
/// </summary>
public sealed class BackfillMetrics
{
    public const string MeterName = "Chive.AdminApi";

    private readonly Counter<long> _operations;
    private readonly Counter<long> _records;
    private readonly Histogram<double> _duration;
    private volatile IReadOnlyList<(string Type, int Running, double SilentSeconds)> _running = [];

    public BackfillMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _operations = meter.CreateCounter<long>("chive_backfill_operations_total",
            description: "Backfill operations by type and status (started, completed, failed, cancelled).");
        _records = meter.CreateCounter<long>("chive_backfill_records_processed",
            description: "Records processed by finished backfill operations, by type.");
        _duration = meter.CreateHistogram("chive_backfill_duration_seconds", unit: "s",
            description: "Duration of finished backfill operations, by type.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1, 5, 10, 30, 60, 300, 600, 1800, 3600] });
        meter.CreateObservableGauge("chive_backfill_running_operations",
            () => _running.Select(r => new Measurement<int>(r.Running, new KeyValuePair<string, object?>("type", r.Type))),
            description: "Operations running, by type (as of the watchdog's last look).");
        meter.CreateObservableGauge("chive_backfill_silence_seconds",
            () => _running.Select(r => new Measurement<double>(r.SilentSeconds, new KeyValuePair<string, object?>("type", r.Type))),
            unit: "s",
            description: "Longest time since a running operation of this type was last heard from (reported anything), as of the watchdog's last look.");
    }

    /// <summary>
    /// Every type and status at 0, once the exporters listen (at start): Prometheus's <c>increase()</c> sees nothing in a
    /// series whose first sample is already 1, so an alert on the first failure after a restart would never fire.
    /// </summary>
    public void Baseline()
    {
        foreach (var type in BackfillOperationType.All)
        {
            foreach (var status in new[] { "started", BackfillStatus.Completed, BackfillStatus.Failed, BackfillStatus.Cancelled })
            {
                _operations.Add(0, new("type", type), new("status", status));
            }
        }
    }

    /// <summary>
    /// A saga write was stored: <paramref name="before"/> is the state it was loaded in (null for a new operation),
    /// <paramref name="after"/> the operation as stored. Counts the start and the end, each exactly once.
    /// </summary>
    public void Committed(string? before, BackfillOperation after)
    {
        const string running = nameof(BackfillStateMachine.Running);
        if (after.CurrentState == running && before != running)
        {
            _operations.Add(1, Type(after), new("status", "started"));
            return;
        }

        if (before == running && after.IsFinished)
        {
            _operations.Add(1, Type(after), new("status", after.Status));
            if (after.RecordsProcessed > 0)
            {
                _records.Add(after.RecordsProcessed, Type(after));
            }

            if (after.CompletedAt is { } completed)
            {
                _duration.Record(Math.Max(0, (completed - after.StartedAt).TotalSeconds), Type(after));
            }
        }
    }

    /// <summary>
    /// The watchdog's look at the running operations: what the two gauges show until the next.
    /// Every type has its two series (0 when none runs), so a dashboard's line does not vanish between operations.
    /// </summary>
    public void Observed(IReadOnlyList<BackfillOperation> running, DateTimeOffset now) =>
        _running = BackfillOperationType.All
            .Select(type => running.Where(o => o.Type == type).ToList())
            .Zip(BackfillOperationType.All, (ofType, type) => (type, ofType.Count,
                ofType.Count == 0 ? 0 : ofType.Max(o => Math.Max(0, (now - (o.LastHeardAt ?? o.StartedAt)).TotalSeconds))))
            .ToList();

    private static KeyValuePair<string, object?> Type(BackfillOperation operation) => new("type", operation.Type);
}
