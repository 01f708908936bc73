using System.Security.Cryptography;
using Chive.AtProto.Identity;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
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
/// <c>r ‖ s</c>, low-S only. The curve maths come from BouncyCastle (the platform's ECDsa cannot import the
/// compressed keys DID documents carry); nothing here is hand-written but the low-S comparison the protocol asks for.
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
        ECPublicKeyParameters publicKey;
        try
        {
            publicKey = new ECPublicKeyParameters(domain.Curve.DecodePoint(key.PublicKey), domain);
        }
        catch (ArgumentException)
        {
            return SignatureCheck.Invalid; // not a point of the curve
        }

        var r = new BigInteger(1, signature[..32].ToArray());
        var s = new BigInteger(1, signature[32..].ToArray());
        var signer = new ECDsaSigner();
        signer.Init(false, publicKey);
        if (!signer.VerifySignature(SHA256.HashData(message), r, s))
        {
            return SignatureCheck.Invalid;
        }

        return s.CompareTo(domain.N.ShiftRight(1)) > 0 ? SignatureCheck.HighS : SignatureCheck.Valid;
    }

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
