using System.Globalization;
using System.Text.RegularExpressions;

namespace Chive.Tests.Infrastructure;

/// <summary>
/// The samples of a Prometheus text exposition (what <c>/metrics</c> serves), read line by line: a name, its labels
/// and a value. Assertions name a series by its name and the labels that matter; labels the exporter adds of its own
/// (<c>otel_scope_name</c>, …) and their order do not.
/// </summary>
public sealed partial class PrometheusText(string text)
{
    public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

    public IReadOnlyList<Sample> Samples { get; } = Parse(text);

    public string Text => text;

    /// <summary>The samples named <paramref name="name"/> whose labels include every one of <paramref name="labels"/>.</summary>
    public IReadOnlyList<Sample> Find(string name, params (string Name, string Value)[] labels) =>
        Samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Name, out var v) && v == l.Value)).ToList();

    /// <summary>The sum of those samples' values (0 when there are none).</summary>
    public double Sum(string name, params (string Name, string Value)[] labels) => Find(name, labels).Sum(s => s.Value);

    public void AssertHas(string name, params (string Name, string Value)[] labels) =>
        Assert.True(Find(name, labels).Count > 0, $"no {name}{{{string.Join(",", labels.Select(l => $"{l.Name}=\"{l.Value}\""))}}} in:\n{text}");

    /// <summary>A histogram bucket's bound, as the exposition may spell it ("1", "1.0", "1e+00", "+Inf").</summary>
    public void AssertHasBucket(string name, double le, params (string Name, string Value)[] labels) =>
        Assert.True(Find(name + "_bucket", labels).Any(s => s.Labels.TryGetValue("le", out var bound) && Bound(bound) == le),
            $"no bucket le={le} of {name} in:\n{text}");

    private static double Bound(string le) => le == "+Inf" ? double.PositiveInfinity : double.Parse(le, CultureInfo.InvariantCulture);

    private static List<Sample> Parse(string text)
    {
        var samples = new List<Sample>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#' || SampleLine().Match(line) is not { Success: true } match)
            {
                continue;
            }

            var labels = LabelPair().Matches(match.Groups["labels"].Value)
                .ToDictionary(m => m.Groups["k"].Value, m => m.Groups["v"].Value.Replace("\\\"", "\"", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal));
            var value = match.Groups["value"].Value switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                "NaN" => double.NaN,
                var v => double.Parse(v, CultureInfo.InvariantCulture),
            };
            samples.Add(new Sample(match.Groups["name"].Value, labels, value));
        }

        return samples;
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+(?<value>\S+)(\s+\S+)?\s*$")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"(?<k>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<v>(\\.|[^""\\])*)""")]
    private static partial Regex LabelPair();
}
