using System.ComponentModel.DataAnnotations;

namespace Chive.IndexWorker.Reindex;

/// <summary>Settings under <c>Reindex</c>: how a full reindex reads and writes.</summary>
public sealed class ReindexOptions
{
    public const string SectionName = "Reindex";

    /// <summary>
    /// Pages (of the batch size) per unit of work: the checkpoint is the last URI of a unit, so a crash redoes at most
    /// this many pages (default 10).
    /// </summary>
    [Range(1, 1000)]
    public int PagesPerChunk { get; set; } = 10;

    /// <summary>Most documents in one <c>_bulk</c> request (default 250).</summary>
    [Range(1, 10_000)]
    public int BulkDocuments { get; set; } = 250;

    /// <summary>Approximate most bytes of document text in one <c>_bulk</c> request (default 5 MB).</summary>
    [Range(10_000, 100_000_000)]
    public int BulkBytes { get; set; } = 5_000_000;

    /// <summary><c>_bulk</c> requests in flight at once (default 2).</summary>
    [Range(1, 16)]
    public int BulkConcurrency { get; set; } = 2;

    /// <summary>Fewest documents between two progress reports (default 50; one report per bulk response at most).</summary>
    [Range(1, 100_000)]
    public int ProgressEvery { get; set; } = 50;

    /// <summary>
    /// Least time between two progress reports of one unit after its first (default 250 ms): at 14,000 documents a second
    /// a report per bulk response kept the saga busy with 60 updates a second, for a bar a person watches.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// How far before the reindex's start (and before the first replay) the replay of changes reaches: longer than any
    /// pipeline transaction, whose rows carry the transaction's start time (default 5 min).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan ReplayMargin { get; set; } = TimeSpan.FromMinutes(5);
}
