using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace Chive.AtProto.Identifiers;

/// <summary>A namespaced identifier such as <c>pub.chive.eprint.submission</c>: a reversed domain authority and a name.</summary>
public sealed partial record Nsid
{
    public const int MaxLength = 317;

    private Nsid(string value) => Value = value;

    public string Value { get; }

    /// <summary>The last segment (<c>submission</c>).</summary>
    public string Name => Value[(Value.LastIndexOf('.') + 1)..];

    public bool IsInNamespace(string prefix) =>
        Value.StartsWith(prefix.EndsWith('.') ? prefix : prefix + ".", StringComparison.Ordinal);

    public static Nsid Parse(string? input) =>
        TryParse(input, out var nsid, out var error) ? nsid : throw new InvalidIdentifierException(IdentifierKind.Nsid, input, error);

    public static bool TryParse(string? input, [NotNullWhen(true)] out Nsid? nsid) => TryParse(input, out nsid, out _);

    public static bool TryParse(string? input, [NotNullWhen(true)] out Nsid? nsid, [NotNullWhen(false)] out string? error)
    {
        nsid = null;
        error = string.IsNullOrEmpty(input) ? "empty"
            : input.Length > MaxLength ? $"longer than {MaxLength} characters"
            : !Syntax().IsMatch(input) ? "not at least three dot-separated segments (domain labels, then a name of letters and digits starting with a letter)"
            : null;
        if (error is not null)
        {
            return false;
        }

        nsid = new Nsid(input!);
        return true;
    }

    public override string ToString() => Value;

    [GeneratedRegex("^[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+\\.[a-zA-Z][a-zA-Z0-9]{0,62}$")]
    private static partial Regex Syntax();
}
