using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace Chive.AtProto.Identifiers;

/// <summary>
/// A content identifier in its string form: CIDv1 in base32 (<c>b</c> + lowercase base32, as atproto writes them) or a
/// legacy CIDv0 (<c>Qm</c> + 44 base58 characters). Checked for syntax only; it is compared, never decoded, here.
/// </summary>
public sealed partial record Cid
{
    private Cid(string value) => Value = value;

    public string Value { get; }

    public static Cid Parse(string? input) =>
        TryParse(input, out var cid, out var error) ? cid : throw new InvalidIdentifierException(IdentifierKind.Cid, input, error);

    public static bool TryParse(string? input, [NotNullWhen(true)] out Cid? cid, [NotNullWhen(false)] out string? error)
    {
        cid = null;
        error = string.IsNullOrEmpty(input) ? "empty"
            : input.Length > 256 ? "longer than 256 characters"
            : !(V1Base32().IsMatch(input) || V0().IsMatch(input)) ? "neither a base32 CIDv1 ('b' + a-z2-7) nor a CIDv0 ('Qm' + 44 base58)"
            : null;
        if (error is not null)
        {
            return false;
        }

        cid = new Cid(input!);
        return true;
    }

    public override string ToString() => Value;

    [GeneratedRegex("^b[a-z2-7]{8,}$")]
    private static partial Regex V1Base32();

    [GeneratedRegex("^Qm[1-9A-HJ-NP-Za-km-z]{44}$")]
    private static partial Regex V0();
}
