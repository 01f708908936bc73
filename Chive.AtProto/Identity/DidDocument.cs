using System.Text.Json;
using Chive.AtProto.Identifiers;
using Chive.AtProto.Net;

namespace Chive.AtProto.Identity;

public enum SigningKeyCurve
{
    Secp256k1,
    P256,
}

/// <summary>The atproto signing key of a DID document: its curve and the compressed public key (33 bytes).</summary>
public sealed record AtprotoSigningKey(SigningKeyCurve Curve, byte[] PublicKey, string Multibase);

/// <summary>What atproto needs from a DID document: the PDS, the handle it claims and the signing key.</summary>
public sealed record ResolvedIdentity(Did Did, Uri PdsEndpoint, Handle? Handle, AtprotoSigningKey? SigningKey);

/// <summary>Parses DID documents (W3C DID core, as the PLC directory and did:web hosts serve them).</summary>
public static class DidDocument
{
    public static ResolvedIdentity Parse(Did did, JsonElement document)
    {
        if (document.ValueKind != JsonValueKind.Object)
        {
            throw new DidResolutionException(did, DidResolutionError.MalformedDocument, "the document is not a JSON object");
        }

        var id = document.TryGetProperty("id", out var idElement) && idElement.ValueKind == JsonValueKind.String ? idElement.GetString() : null;
        if (id is null)
        {
            throw new DidResolutionException(did, DidResolutionError.MalformedDocument, "the document has no 'id'");
        }

        if (id != did.Value)
        {
            throw new DidResolutionException(did, DidResolutionError.WrongId, $"the document is for '{id}'");
        }

        return new ResolvedIdentity(did, PdsEndpoint(did, document), Handle(document), SigningKey(did, document));
    }

    private static Uri PdsEndpoint(Did did, JsonElement document)
    {
        if (document.TryGetProperty("service", out var services) && services.ValueKind == JsonValueKind.Array)
        {
            foreach (var service in services.EnumerateArray())
            {
                if (service.ValueKind != JsonValueKind.Object
                    || !IsFragment(did, Str(service, "id"), "atproto_pds")
                    || Str(service, "type") != "AtprotoPersonalDataServer")
                {
                    continue;
                }

                var endpoint = Str(service, "serviceEndpoint");
                if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || SsrfGuard.SchemeRefusal(uri) is not null
                    || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment) || !string.IsNullOrEmpty(uri.UserInfo))
                {
                    throw new DidResolutionException(did, DidResolutionError.NoPdsEndpoint, $"the PDS endpoint '{endpoint}' is not a plain http(s) URL");
                }

                return uri;
            }
        }

        throw new DidResolutionException(did, DidResolutionError.NoPdsEndpoint,
            "the document has no service '#atproto_pds' of type 'AtprotoPersonalDataServer'");
    }

    private static Handle? Handle(JsonElement document)
    {
        if (!document.TryGetProperty("alsoKnownAs", out var aka) || aka.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        foreach (var name in aka.EnumerateArray())
        {
            if (name.ValueKind == JsonValueKind.String && name.GetString() is { } value && value.StartsWith("at://", StringComparison.Ordinal)
                && Identifiers.Handle.TryParse(value["at://".Length..], out var handle, out _))
            {
                return handle;
            }
        }

        return null;
    }

    private static AtprotoSigningKey? SigningKey(Did did, JsonElement document)
    {
        if (!document.TryGetProperty("verificationMethod", out var methods) || methods.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        foreach (var method in methods.EnumerateArray())
        {
            if (method.ValueKind == JsonValueKind.Object && IsFragment(did, Str(method, "id"), "atproto")
                && Str(method, "publicKeyMultibase") is { } multibase)
            {
                return Multikey.TryDecode(multibase, Str(method, "type"), out var key)
                    ? key
                    : throw new DidResolutionException(did, DidResolutionError.MalformedDocument, $"the #atproto key '{multibase}' is not a secp256k1 or P-256 multikey");
            }
        }

        return null;
    }

    /// <summary>Service and key ids are written <c>#name</c> or <c>did:…#name</c>.</summary>
    private static bool IsFragment(Did did, string? id, string fragment) =>
        id == "#" + fragment || id == did.Value + "#" + fragment;

    private static string? Str(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
