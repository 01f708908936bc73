using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace Chive.AtProto.Identifiers;

/// <summary>An atproto handle (a domain name of at least two labels, the last starting with a letter), lower-cased.</summary>
public sealed partial record Handle
{
    public const int MaxLength = 253;

    private Handle(string value) => Value = value;

    public string Value { get; }

    public static Handle Parse(string? input) =>
        TryParse(input, out var handle, out var error) ? handle : throw new InvalidIdentifierException(IdentifierKind.Handle, input, error);

    public static bool TryParse(string? input, [NotNullWhen(true)] out Handle? handle, [NotNullWhen(false)] out string? error)
    {
        handle = null;
        error = string.IsNullOrEmpty(input) ? "empty"
            : input.Length > MaxLength ? $"longer than {MaxLength} characters"
            : !Syntax().IsMatch(input) ? "not a domain name of at least two labels whose last label starts with a letter"
            : null;
        if (error is not null)
        {
            return false;
        }

        handle = new Handle(input!.ToLowerInvariant());
        return true;
    }

    public override string ToString() => Value;

    [GeneratedRegex("^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$")]
    private static partial Regex Syntax();
}
