using System.Globalization;
using System.Text.RegularExpressions;

namespace Chive.Bench;

/// <summary>
/// Where an operation's time went, from the services' own logs: with <c>Logging:LogLevel:MassTransit = Debug</c> every
/// consumed message is logged as <c>RECEIVE … {message type} {consumer}({duration})</c> with the service's UTC time;
/// the lines of one time window are summed per service and message type (messages, total and largest consume time).
/// Consume times overlap where a consumer runs several messages at once, so they say where the work is, not a
/// partition of the wall time. With the ScanWorker's <c>RepoReader</c> at Debug, each verified repo's steps are summed too.
/// </summary>
internal static partial class ConsumeBreakdown
{
    public sealed record Stage(string Service, string Message, int Count, double TotalMs, double MaxMs, TimeSpan First, TimeSpan Last);

    /// <summary>Timing lines of one step each (service, regex, and the stage name of each of its millisecond groups).</summary>
    private static readonly (string Service, Regex Line, (string Stage, string Group)[] Steps)[] StepLines =
    [
        ("scan-worker", RepoStep(), [("per repo: describeRepo", "describe"), ("per repo: DID document", "resolve"), ("per repo: getRepo and verify", "fetch"), ("per repo: batches sent", "apply")]),
        ("index-worker", BatchStep(), [("per batch: open and claim", "claim"), ("per batch: apply (records, search)", "apply"), ("per batch: ledger and totals", "ledger"), ("per batch: commit", "commit")]),
    ];

    public static IReadOnlyList<Stage> Read(string logFile, DateTime fromUtc, DateTime toUtc)
    {
        var stages = new Dictionary<(string, string), (int Count, double Total, double Max, TimeSpan First, TimeSpan Last)>();
        void Add(string service, string stage, double ms, TimeSpan offset) =>
            stages[(service, stage)] = stages.TryGetValue((service, stage), out var s)
                ? (s.Count + 1, s.Total + ms, Math.Max(s.Max, ms), s.First, offset)
                : (1, ms, ms, offset, offset);
        bool InWindow(Match match, out TimeSpan offset)
        {
            var ok = DateTime.TryParse(match.Groups["at"].Value, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var at)
                && at >= fromUtc && at <= toUtc;
            offset = at - fromUtc;
            return ok;
        }

        using var stream = new FileStream(logFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        for (var line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            var timed = StepLines.Select(t => (t.Service, Match: t.Line.Match(line), t.Steps)).FirstOrDefault(t => t.Match.Success);
            if (timed.Match is { } step)
            {
                if (InWindow(step, out var stepOffset))
                {
                    foreach (var (stage, group) in timed.Steps)
                    {
                        Add(timed.Service, stage, double.Parse(step.Groups[group].Value, CultureInfo.InvariantCulture), stepOffset);
                    }
                }

                continue;
            }

            var match = Received().Match(line);
            if (match.Success && InWindow(match, out var offset))
            {
                var type = match.Groups["type"].Value;
                Add(match.Groups["service"].Value, type[(type.LastIndexOf('.') + 1)..], TimeSpan.Parse(match.Groups["duration"].Value, CultureInfo.InvariantCulture).TotalMilliseconds, offset);
            }
        }

        return stages.Select(p => new Stage(p.Key.Item1, p.Key.Item2, p.Value.Count, p.Value.Total, p.Value.Max, p.Value.First, p.Value.Last))
            .OrderBy(s => s.First).ToList();
    }

    public static void Print(string title, IReadOnlyList<Stage> stages, TimeSpan wall)
    {
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"*{title}* — {wall.TotalSeconds:F2} s wall; consume times per service and message (overlapping where concurrent):"));
        Console.WriteLine();
        Console.WriteLine("| service | message | messages | consume ms (sum) | largest ms | first → last (s after trigger) |");
        Console.WriteLine("|---|---|---:|---:|---:|---|");
        foreach (var s in stages)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {s.Service} | {s.Message} | {s.Count} | {s.TotalMs:F0} | {s.MaxMs:F0} | {s.First.TotalSeconds:F2} → {s.Last.TotalSeconds:F2} |"));
        }
    }

    /// <summary>The IndexWorker's <c>IndexBatchProcessor</c> at Debug: where one batch's time went.</summary>
    [GeneratedRegex(@"Resources\.index-worker: \d+: (?<at>\S+Z)\s+Batch timing \S+: open and claim (?<claim>[\d.]+) ms, apply (?<apply>[\d.]+) ms, ledger and totals (?<ledger>[\d.]+) ms, commit (?<commit>[\d.]+) ms")]
    private static partial Regex BatchStep();

    /// <summary>The ScanWorker's <c>RepoReader</c> at Debug: where one verified repo's time went.</summary>
    [GeneratedRegex(@"Resources\.scan-worker: \d+: (?<at>\S+Z)\s+Repo read \S+: describeRepo (?<describe>[\d.]+) ms, DID document (?<resolve>[\d.]+) ms, getRepo and verify (?<fetch>[\d.]+) ms, batches sent (?<apply>[\d.]+) ms")]
    private static partial Regex RepoStep();

    [GeneratedRegex(@"Resources\.(?<service>[a-z-]+): \d+: (?<at>\S+Z)\s+RECEIVE \S+ \S+ (?<type>\S+) \S+\((?<duration>\d\d:\d\d:\d\d\.\d+)\)")]
    private static partial Regex Received();
}
