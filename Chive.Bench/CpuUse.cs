using System.Globalization;

namespace Chive.Bench;

/// <summary>
/// CPU time each program on the machine used during a run: user + system time of every process from
/// <c>/proc/PID/stat</c> before and after, summed by program name (a process that started or ended in between counts
/// from or until what was seen). Shows where a run's time goes across processes — the services, PostgreSQL, RabbitMQ,
/// the dev PDS and PLC (node), this benchmark with its proxy and doubles — and how busy the machine was: a run whose
/// CPU seconds approach cores × wall time is bound by the machine, not by waiting.
/// </summary>
internal static class CpuUse
{
    /// <summary>Clock ticks per second of <c>/proc</c>'s times (USER_HZ, 100 on Linux).</summary>
    private const double TicksPerSecond = 100;

    public static Dictionary<int, (string Program, long Ticks)> Snapshot()
    {
        var processes = new Dictionary<int, (string, long)>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var open = stat.IndexOf('(');
                var close = stat.LastIndexOf(')');
                var fields = stat[(close + 2)..].Split(' ');
                // After the name: state is field 3 of the whole line, utime 14 and stime 15.
                var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                var name = stat[(open + 1)..close];
                if (name.StartsWith("kworker/", StringComparison.Ordinal))
                {
                    name = "kernel workers";
                }

                if (name == "Chive.Bench")
                {
                    // This benchmark's children: the search double and Chive's reindex loop.
                    var commandLine = File.ReadAllText(Path.Combine(directory, "cmdline"));
                    name = commandLine.Contains("search-double", StringComparison.Ordinal) ? "search double"
                        : commandLine.Contains("chive-pattern", StringComparison.Ordinal) ? "Chive's pattern" : name;
                }

                processes[pid] = (name, ticks);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or ArgumentOutOfRangeException)
            {
                // gone meanwhile, or not ours to read
            }
        }

        return processes;
    }

    /// <summary>The busiest <paramref name="top"/> programs as "name seconds, …".</summary>
    public static string Describe(IReadOnlyList<(string Program, double Seconds)> cpu, int top = 6) =>
        string.Join(", ", cpu.Take(top).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Program} {p.Seconds:F2}")));

    /// <summary>
    /// CPU seconds per program since <paramref name="before"/>, largest first: a process started since counts from 0; one
    /// that ended before now is not seen (a child the caller waited for reports its own).
    /// </summary>
    public static IReadOnlyList<(string Program, double Seconds)> Since(Dictionary<int, (string Program, long Ticks)> before) =>
        Snapshot()
            // By PID alone: a kernel worker renames itself as it takes other work (kworker/0:0-events → kworker/0:0-mm_percpu_wq).
            .Select(p => (p.Value.Program, Ticks: p.Value.Ticks - (before.TryGetValue(p.Key, out var b) ? b.Ticks : 0)))
            .GroupBy(p => p.Program, StringComparer.Ordinal)
            .Select(g => (Program: g.Key, Seconds: g.Sum(p => p.Ticks) / TicksPerSecond))
            .Where(p => p.Seconds > 0)
            .OrderByDescending(p => p.Seconds)
            .ToList();
}
