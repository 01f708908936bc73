using System.Globalization;

namespace Chive.Bench;

/// <summary>
/// The headline numbers of every benchmark run in this process, each with the target it is measured against, printed
/// as one table by <c>scripts/bench.sh all</c>.
/// </summary>
internal static class BenchSummary
{
    private static readonly List<(string Measure, string Value, string Target)> Rows = [];

    public static void Add(string measure, FormattableString value, string target) =>
        Rows.Add((measure, value.ToString(CultureInfo.InvariantCulture), target));

    public static void Print()
    {
        Console.WriteLine();
        Console.WriteLine($"**All benchmarks, one run** ({Environment.ProcessorCount} cores):");
        Console.WriteLine();
        Console.WriteLine("| measure | this run | target |");
        Console.WriteLine("|---|---:|---|");
        foreach (var (measure, value, target) in Rows)
        {
            Console.WriteLine($"| {measure} | {value} | {target} |");
        }
    }
}
