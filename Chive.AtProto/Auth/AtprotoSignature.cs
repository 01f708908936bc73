using System.Security.Cryptography;
using Chive.AtProto.Identity;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math;

namespace Chive.AtProto.Auth;

/// <summary>How checking a signature ended.</summary>
public enum SignatureCheck
{
    Valid,

    /// <summary>Not a signature of these bytes by this key (or not 64 bytes, or a key that is not a point of its curve).</summary>
    Invalid,

    /// <summary>A valid ECDSA signature whose s is in the upper half of the order: the AT Protocol refuses it (malleable).</summary>
    HighS,
}

/// <summary>
/// The AT Protocol's signatures: ECDSA over SHA-256 on secp256k1 (<c>ES256K</c>) or P-256 (<c>ES256</c>), 64 bytes
/// <c>r ‖ s</c>, low-S only. BouncyCastle decompresses the keys DID documents carry (the platform's ECDsa cannot import a
/// compressed point) and knows the curves' orders; the platform's ECDsa verifies. Nothing here is hand-written but the
/// low-S comparison the protocol asks for.
/// </summary>
public static class AtprotoSignature
{
    private static readonly ECDomainParameters Secp256k1 = Domain("secp256k1");
    private static readonly ECDomainParameters P256 = Domain("secp256r1");

    public static SignatureCheck Verify(AtprotoSigningKey key, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        if (signature.Length != 64)
        {
            return SignatureCheck.Invalid;
        }

        var domain = DomainOf(key.Curve);
        if (PublicKey(key, domain) is not { } parameters)
        {
            return SignatureCheck.Invalid; // not a point of the curve
        }

        // The platform's ECDsa (OpenSSL) verifies; a new instance per call, since one is not documented as safe to share.
        using var ecdsa = ECDsa.Create(parameters);
        if (!ecdsa.VerifyHash(SHA256.HashData(message), signature, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
        {
            return SignatureCheck.Invalid;
        }

        var s = new BigInteger(1, signature[32..].ToArray());
        return s.CompareTo(domain.N.ShiftRight(1)) > 0 ? SignatureCheck.HighS : SignatureCheck.Valid;
    }

    /// <summary>
    /// The decoded key, kept (decompressing a point is most of a verification's cost, and administrators are few); the
    /// cache is emptied when it reaches 1,000 keys, so a stream of strangers' keys cannot grow it.
    /// </summary>
    private static ECParameters? PublicKey(AtprotoSigningKey key, ECDomainParameters domain)
    {
        var id = $"{key.Curve}:{key.Multibase}";
        if (Decoded.TryGetValue(id, out var known))
        {
            return known;
        }

        ECParameters parameters;
        try
        {
            // BouncyCastle decompresses the point (the platform cannot import a compressed one).
            var point = domain.Curve.DecodePoint(key.PublicKey).Normalize();
            parameters = new ECParameters
            {
                Curve = key.Curve == SigningKeyCurve.P256 ? ECCurve.NamedCurves.nistP256 : ECCurve.CreateFromFriendlyName("secp256k1"),
                Q = new ECPoint
                {
                    X = point.AffineXCoord.GetEncoded(),
                    Y = point.AffineYCoord.GetEncoded(),
                },
            };
        }
        catch (ArgumentException)
        {
            return null;
        }

        if (Decoded.Count >= 1000)
        {
            Decoded.Clear();
        }

        Decoded[id] = parameters;
        return parameters;
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, ECParameters> Decoded = new(StringComparer.Ordinal);

    /// <summary>The curve's order: what a test needs to turn a low-S signature into its high-S twin (s → n − s).</summary>
    public static System.Numerics.BigInteger Order(SigningKeyCurve curve) =>
        new(DomainOf(curve).N.ToByteArrayUnsigned(), isUnsigned: true, isBigEndian: true);

    private static ECDomainParameters DomainOf(SigningKeyCurve curve) => curve == SigningKeyCurve.Secp256k1 ? Secp256k1 : P256;

    private static ECDomainParameters Domain(string name)
    {
        var curve = ECNamedCurveTable.GetByName(name);
        return new ECDomainParameters(curve.Curve, curve.G, curve.N, curve.H);
    }
}
