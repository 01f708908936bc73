using Chive.Contracts.Indexing;
using Chive.Contracts.Operations;
using Chive.Contracts.PdsScan;
using MassTransit;

namespace Chive.AdminApi.Operations;

/// <summary>
/// The saga instance, which is also the operation record the API returns: one per operation, keyed by its id,
/// written only by <see cref="BackfillStateMachine"/> and stored by <see cref="OperationStore"/>.
/// </summary>
public sealed class BackfillOperation : SagaStateMachineInstance, ISagaVersion
{
    /// <summary>The metadata key of who started the operation (an operator key's label, or <c>scheduler</c>).</summary>
    public const string StartedByKey = "startedBy";

    /// <summary>The metadata key of who cancelled the operation.</summary>
    public const string CancelledByKey = "cancelledBy";

    /// <summary>The metadata key of how many times the watchdog sent the first unit of work again (absent: never).</summary>
    public const string StartResendsKey = "startResends";

    /// <summary>The metadata key of the trigger's accepted input (JSON, without the type): what "Run again" sends.</summary>
    public const string InputKey = "input";

    /// <summary>Keys only the API and the saga write: a worker's details never replace them.</summary>
    public static bool IsTriggerKey(string key) => key is StartedByKey or CancelledByKey or StartResendsKey or InputKey;

    public Guid CorrelationId { get; set; }

    /// <summary>The machine's state name: Running, Completed, Failed or Cancelled (Initial/Final are never stored).</summary>
    public string CurrentState { get; set; } = "";

    public int Version { get; set; }

    public string Type { get; set; } = "";

    /// <summary>What makes two runs "the same": the DID for didSync, "*" for the other types.</summary>
    public string Scope { get; set; } = "*";

    public DateTimeOffset StartedAt { get; set; }

    public DateTimeOffset? CompletedAt { get; set; }

    public int Progress { get; set; }

    public long RecordsProcessed { get; set; }

    public string? Error { get; set; }

    public Dictionary<string, string> Metadata { get; set; } = [];

    /// <summary>Scans: the number of lanes (0 until the first lane reports), and each lane's latest totals.</summary>
    public int ScanLanes { get; set; }

    public Dictionary<int, ScanTotals> LaneTotals { get; set; } = [];

    public List<int> FinishedLanes { get; set; } = [];

    /// <summary>The IndexWorker's latest totals for this operation (batches indexed, records, …).</summary>
    public RecordsIndexed? Indexed { get; set; }

    /// <summary>When a worker last reported anything about this operation; null until the first report.</summary>
    public DateTimeOffset? LastHeardAt { get; set; }

    /// <summary>When the first unit of work was last sent (at the start, or again by the watchdog).</summary>
    public DateTimeOffset? StartSentAt { get; set; }

    /// <summary>How many times the first unit of work was sent again because no worker ever reported.</summary>
    public int StartResends { get; set; }

    /// <summary>The API's spelling of <see cref="CurrentState"/> (Initial, before the first save, counts as running).</summary>
    public string Status => CurrentState switch
    {
        nameof(BackfillStateMachine.Completed) => BackfillStatus.Completed,
        nameof(BackfillStateMachine.Failed) => BackfillStatus.Failed,
        nameof(BackfillStateMachine.Cancelled) => BackfillStatus.Cancelled,
        _ => BackfillStatus.Running,
    };

    public bool IsFinished => Status != BackfillStatus.Running;
}
