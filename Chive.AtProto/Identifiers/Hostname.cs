using System.Text.RegularExpressions;

namespace Chive.AtProto.Identifiers;

internal static partial class Hostname
{
    /// <summary>A DNS hostname: labels of letters, digits and inner hyphens, 1–63 characters each, 253 in all.</summary>
    public static bool IsValid(string host) => host.Length is > 0 and <= 253 && Label().IsMatch(host);

    [GeneratedRegex("^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$")]
    private static partial Regex Label();
}
