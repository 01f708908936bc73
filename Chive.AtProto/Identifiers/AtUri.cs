using System.Diagnostics.CodeAnalysis;

namespace Chive.AtProto.Identifiers;

/// <summary>
/// An AT-URI naming one record: <c>at://&lt;did&gt;/&lt;collection&gt;/&lt;rkey&gt;</c>. (URIs with a handle as authority, or
/// naming a whole repo or collection, are not record addresses and are refused.)
/// </summary>
public sealed record AtUri(Did Repo, Nsid Collection, RecordKey RecordKey)
{
    public const int MaxLength = 8 * 1024;

    public string Value => $"at://{Repo.Value}/{Collection.Value}/{RecordKey.Value}";

    public static AtUri Create(Did repo, Nsid collection, RecordKey key) => new(repo, collection, key);

    public static AtUri Parse(string? input) =>
        TryParse(input, out var uri, out var error) ? uri : throw new InvalidIdentifierException(IdentifierKind.AtUri, input, error);

    public static bool TryParse(string? input, [NotNullWhen(true)] out AtUri? uri, [NotNullWhen(false)] out string? error)
    {
        uri = null;
        if (string.IsNullOrEmpty(input))
        {
            error = "empty";
            return false;
        }

        if (input.Length > MaxLength)
        {
            error = $"longer than {MaxLength} characters";
            return false;
        }

        if (!input.StartsWith("at://", StringComparison.Ordinal))
        {
            error = "does not start with at://";
            return false;
        }

        var parts = input["at://".Length..].Split('/');
        if (parts.Length != 3)
        {
            error = "not of the form at://<did>/<collection>/<rkey>";
            return false;
        }

        if (!Did.TryParse(parts[0], out var did, out var didError))
        {
            error = $"authority: {didError}";
            return false;
        }

        if (!Nsid.TryParse(parts[1], out var nsid, out var nsidError))
        {
            error = $"collection: {nsidError}";
            return false;
        }

        if (!RecordKey.TryParse(parts[2], out var rkey, out var keyError))
        {
            error = $"record key: {keyError}";
            return false;
        }

        uri = new AtUri(did, nsid, rkey);
        error = null;
        return true;
    }

    public override string ToString() => Value;
}
