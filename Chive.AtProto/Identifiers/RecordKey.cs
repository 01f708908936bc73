using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace Chive.AtProto.Identifiers;

/// <summary>A record key: 1–512 characters of <c>A-Za-z0-9 . - _ : ~</c>, not <c>.</c> or <c>..</c>.</summary>
public sealed partial record RecordKey
{
    private RecordKey(string value) => Value = value;

    public string Value { get; }

    public static RecordKey Parse(string? input) =>
        TryParse(input, out var key, out var error) ? key : throw new InvalidIdentifierException(IdentifierKind.RecordKey, input, error);

    public static bool TryParse(string? input, [NotNullWhen(true)] out RecordKey? key, [NotNullWhen(false)] out string? error)
    {
        key = null;
        error = string.IsNullOrEmpty(input) ? "empty"
            : input is "." or ".." ? "'.' and '..' are not record keys"
            : !Syntax().IsMatch(input) ? "1 to 512 characters of A-Z a-z 0-9 . - _ : ~"
            : null;
        if (error is not null)
        {
            return false;
        }

        key = new RecordKey(input!);
        return true;
    }

    public override string ToString() => Value;

    [GeneratedRegex("^[a-zA-Z0-9_~.:-]{1,512}$")]
    private static partial Regex Syntax();
}
