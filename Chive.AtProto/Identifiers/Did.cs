using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace Chive.AtProto.Identifiers;

public enum DidMethod
{
    Plc,
    Web,
}

/// <summary>
/// A DID of one of the two methods atproto supports: <c>did:plc:</c> + 24 base32 characters, or <c>did:web:</c> +
/// a hostname (a port is written <c>%3A</c>; paths are not allowed in atproto).
/// </summary>
public sealed partial record Did
{
    public const int MaxLength = 2048;

    private Did(string value, DidMethod method)
    {
        Value = value;
        Method = method;
    }

    public string Value { get; }

    public DidMethod Method { get; }

    /// <summary>For <c>did:web</c>: the host, with the port decoded (<c>example.com:8080</c>).</summary>
    public string? WebHost => Method == DidMethod.Web ? Uri.UnescapeDataString(Value["did:web:".Length..]) : null;

    public static Did Parse(string? input) =>
        TryParse(input, out var did, out var error) ? did : throw new InvalidIdentifierException(IdentifierKind.Did, input, error);

    public static bool TryParse(string? input, [NotNullWhen(true)] out Did? did) => TryParse(input, out did, out _);

    public static bool TryParse(string? input, [NotNullWhen(true)] out Did? did, [NotNullWhen(false)] out string? error)
    {
        did = null;
        error = Validate(input, out var method);
        if (error is not null)
        {
            return false;
        }

        did = new Did(input!, method);
        return true;
    }

    public override string ToString() => Value;

    private static string? Validate(string? input, out DidMethod method)
    {
        method = default;
        if (string.IsNullOrEmpty(input))
        {
            return "empty";
        }

        if (input.Length > MaxLength)
        {
            return $"longer than {MaxLength} characters";
        }

        if (!GenericDid().IsMatch(input))
        {
            return "not of the form did:<method>:<identifier>";
        }

        if (input.StartsWith("did:plc:", StringComparison.Ordinal))
        {
            method = DidMethod.Plc;
            return PlcIdentifier().IsMatch(input["did:plc:".Length..])
                ? null
                : "a did:plc identifier is exactly 24 characters of lowercase base32 (a-z, 2-7)";
        }

        if (input.StartsWith("did:web:", StringComparison.Ordinal))
        {
            method = DidMethod.Web;
            var rest = input["did:web:".Length..];
            if (rest.Contains(':', StringComparison.Ordinal))
            {
                return "did:web with a path is not supported by atproto";
            }

            var host = rest;
            var portIndex = rest.IndexOf("%3A", StringComparison.OrdinalIgnoreCase);
            if (portIndex >= 0)
            {
                host = rest[..portIndex];
                var port = rest[(portIndex + 3)..];
                if (!ushort.TryParse(port, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var p) || p == 0)
                {
                    return $"'{port}' is not a port number";
                }
            }

            return Hostname.IsValid(host) ? null : $"'{host}' is not a valid hostname";
        }

        return "only the did:plc and did:web methods are supported";
    }

    [GeneratedRegex("^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$")]
    private static partial Regex GenericDid();

    [GeneratedRegex("^[a-z2-7]{24}$")]
    private static partial Regex PlcIdentifier();
}
