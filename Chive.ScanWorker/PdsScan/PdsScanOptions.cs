using System.ComponentModel.DataAnnotations;

namespace Chive.ScanWorker.PdsScan;

/// <summary>Settings under <c>PdsScan</c>: how much one scan takes on, and how its work is cut into units.</summary>
public sealed class PdsScanOptions
{
    public const string SectionName = "PdsScan";

    /// <summary>Due PDSes one scan (without a pdsUrl) claims (default 10, Chive's batch).</summary>
    [Range(1, 10_000)]
    public int MaxPdsesPerScan { get; set; } = 10;

    /// <summary>PDSes scanned at once by one operation: its number of lanes (default 2).</summary>
    [Range(1, 64)]
    public int Concurrency { get; set; } = 2;

    /// <summary>Repos per <c>listRepos</c> page; one page is one unit of work, and its cursor the checkpoint (default 100).</summary>
    [Range(1, 1000)]
    public int ReposPerChunk { get; set; } = 100;

    /// <summary>Records per batch sent to the IndexWorker (default 200).</summary>
    [Range(1, 2000)]
    public int RecordsPerBatch { get; set; } = 200;
}
