using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Chive.AtProto.Auth;
using Chive.AtProto.Identity;
using Chive.Testing.Doubles;
using Microsoft.IdentityModel.Tokens;

namespace Chive.Testing;

/// <summary>
/// An AT Protocol signing key of the test's own (P-256 or secp256k1, from the platform's ECDsa) for a did:web the test
/// serves: its DID document entry, and service-auth tokens signed with it — low-S, as the protocol asks — with any
/// claims a PDS would not mint (a future <c>iat</c>, a long life, a service fragment on <c>iss</c>).
/// </summary>
public sealed class ServiceAuthSigner(SigningKeyCurve curve) : IDisposable
{
    private readonly ECDsa _key = ECDsa.Create(curve == SigningKeyCurve.P256 ? ECCurve.NamedCurves.nistP256 : ECCurve.CreateFromFriendlyName("secp256k1"));

    public string Algorithm => curve == SigningKeyCurve.P256 ? "ES256" : "ES256K";

    /// <summary>The key as a DID document's <c>publicKeyMultibase</c>: base58btc over the multicodec prefix and the compressed point.</summary>
    public string Multikey
    {
        get
        {
            var point = _key.ExportParameters(false).Q;
            byte[] prefix = curve == SigningKeyCurve.P256 ? [0x80, 0x24] : [0xe7, 0x01];
            return "z" + Base58([.. prefix, (byte)((point.Y![^1] & 1) == 0 ? 0x02 : 0x03), .. point.X!]);
        }
    }

    /// <summary><paramref name="host"/>'s DID document (naming the host as its PDS) with this key as its <c>#atproto</c> key.</summary>
    public string DocumentFor(DidWebHost host)
    {
        var document = JsonNode.Parse(host.DocumentNaming())!.AsObject();
        document["verificationMethod"] = new JsonArray(new JsonObject
        {
            ["id"] = host.Did + "#atproto",
            ["type"] = "Multikey",
            ["controller"] = host.Did,
            ["publicKeyMultibase"] = Multikey,
        });
        return document.ToJsonString();
    }

    /// <summary>A token with these claims (a fresh <c>jti</c>), signed with this key in low-S form.</summary>
    public string Sign(string iss, string aud, string lxm, long iat, long exp)
    {
        var header = Base64UrlEncoder.Encode($$"""{"typ":"JWT","alg":"{{Algorithm}}"}""");
        var payload = Base64UrlEncoder.Encode(new JsonObject
        {
            ["iss"] = iss,
            ["aud"] = aud,
            ["lxm"] = lxm,
            ["iat"] = iat,
            ["exp"] = exp,
            ["jti"] = Guid.NewGuid().ToString("N"),
        }.ToJsonString());
        return $"{header}.{payload}.{Base64UrlEncoder.Encode(SignBytes(Encoding.ASCII.GetBytes($"{header}.{payload}")))}";
    }

    /// <summary>An AT Protocol signature of <paramref name="bytes"/>: ECDSA over SHA-256, 64 bytes r ‖ s, low-S.</summary>
    public byte[] SignBytes(byte[] bytes)
    {
        var signature = _key.SignData(bytes, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        var n = AtprotoSignature.Order(curve);
        var s = new BigInteger(signature.AsSpan(32), isUnsigned: true, isBigEndian: true);
        if (s > n / 2)
        {
            var low = (n - s).ToByteArray(isUnsigned: true, isBigEndian: true);
            signature = [.. signature[..32], .. new byte[32 - low.Length], .. low];
        }

        return signature;
    }

    /// <summary>
    /// The high-S twin of a low-S signature (s → n − s): as valid for ECDSA, refused by the AT Protocol. What a test
    /// sends to check that refusal.
    /// </summary>
    public static byte[] HighSTwin(byte[] signature, SigningKeyCurve curve)
    {
        var s = new BigInteger(signature.AsSpan(32), isUnsigned: true, isBigEndian: true);
        var twin = (AtprotoSignature.Order(curve) - s).ToByteArray(isUnsigned: true, isBigEndian: true);
        return [.. signature[..32], .. new byte[32 - twin.Length], .. twin];
    }

    public void Dispose() => _key.Dispose();

    private static string Base58(byte[] bytes)
    {
        const string alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
        var value = new BigInteger(bytes, isUnsigned: true, isBigEndian: true);
        var text = new StringBuilder();
        while (value > 0)
        {
            text.Insert(0, alphabet[(int)(value % 58)]);
            value /= 58;
        }

        return new string('1', bytes.TakeWhile(b => b == 0).Count()) + text;
    }
}
