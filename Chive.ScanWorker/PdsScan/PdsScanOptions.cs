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

    /// <summary>
    /// In verified mode, a repo whose PDS lists as its head the commit we recorded as verified for it on that PDS — the
    /// same CID, so the same signed commit and the same records — is confirmed (its records' last sync now) without being
    /// read again: no <c>describeRepo</c>, no <c>getRepo</c> (default true). Its DID document must still name the PDS.
    /// A trigger with <c>force</c> reads every repo whole regardless.
    /// </summary>
    public bool SkipUnchangedRepos { get; set; } = true;

    /// <summary>
    /// Repos of a unit read at once in verified mode (default 2): the next repos are described, resolved, downloaded and
    /// verified while one is applied, always applied in page order, so a unit sends the batches (and batch ids) of a
    /// one-at-a-time read, and never more requests than <see cref="MaxPagesPerPds"/>. The PDS's pace
    /// (<c>Xrpc:RequestsPerSecondPerHost</c>) holds whatever the number. Each repo in flight holds its CAR in a temporary
    /// file while it is verified and then its Chive records in memory until applied: per unit, this many repos' worth.
    /// 1 reads one repo at a time.
    /// </summary>
    [Range(1, 4)]
    public int ReposInFlight { get; set; } = 2;

    /// <summary>
    /// Records per batch sent to the IndexWorker (default 1,000; <see cref="MaxBatchBytes"/> bounds a batch of large
    /// records first). Each batch costs a publish, a transaction with its ledger row and a report to the saga, whatever
    /// its size: 1,000 instead of 200 took the three services' CPU in a benchmarked scan from 0.85 to 0.59 s
    /// (Chive.Bench/README.md, the eighth round).
    /// </summary>
    [Range(1, 2000)]
    public int RecordsPerBatch { get; set; } = 1000;

    /// <summary>
    /// Largest record taken from a PDS, in bytes of JSON (default 1 MiB); a larger one is sent to the IndexWorker
    /// without its value, to be counted and listed as rejected — never indexed, never swept.
    /// </summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxRecordBytes { get; set; } = 1024 * 1024;

    /// <summary>Largest batch message sent to the IndexWorker, in bytes of record JSON (default 4 MiB).</summary>
    [Range(4096, 256 * 1024 * 1024)]
    public int MaxBatchBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Most requests one scan sends to one PDS (default 100,000); beyond, the PDS is recorded as limited.</summary>
    [Range(1, int.MaxValue)]
    public int MaxPagesPerPds { get; set; } = 100_000;

    /// <summary>Most repos one scan reads from one PDS (default 1,000,000); beyond, the PDS is recorded as limited.</summary>
    [Range(1, int.MaxValue)]
    public int MaxReposPerPds { get; set; } = 1_000_000;

    /// <summary>Most records one scan reads from one PDS (default 5,000,000); beyond, the PDS is recorded as limited.</summary>
    [Range(1, int.MaxValue)]
    public int MaxRecordsPerPds { get; set; } = 5_000_000;
}
