using System.Diagnostics.CodeAnalysis;
using System.Numerics;

namespace Chive.AtProto.Identity;

/// <summary>
/// Decodes the atproto signing key of a DID document. Current documents use type <c>Multikey</c>: base58btc
/// (<c>z…</c>) over a multicodec prefix (<c>0xe7 0x01</c> secp256k1-pub, <c>0x80 0x24</c> p256-pub) and a 33-byte
/// compressed point. Legacy documents (types <c>EcdsaSecp256k1VerificationKey2019</c> /
/// <c>EcdsaSecp256r1VerificationKey2019</c>, still served by the reference PLC) carry the bare point, compressed or
/// uncompressed; it is compressed here so callers see one form.
/// </summary>
public static class Multikey
{
    private const string Base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

    public static bool TryDecode(string multibase, [NotNullWhen(true)] out AtprotoSigningKey? key) => TryDecode(multibase, "Multikey", out key);

    public static bool TryDecode(string multibase, string? type, [NotNullWhen(true)] out AtprotoSigningKey? key)
    {
        key = null;
        if (multibase.Length < 2 || multibase[0] != 'z' || !TryDecodeBase58(multibase.AsSpan(1), out var bytes))
        {
            return false;
        }

        SigningKeyCurve? curve;
        byte[] point;
        switch (type)
        {
            case "EcdsaSecp256k1VerificationKey2019":
                (curve, point) = (SigningKeyCurve.Secp256k1, bytes);
                break;
            case "EcdsaSecp256r1VerificationKey2019":
                (curve, point) = (SigningKeyCurve.P256, bytes);
                break;
            default:
                if (bytes.Length < 3)
                {
                    return false;
                }

                curve = (bytes[0], bytes[1]) switch
                {
                    (0xe7, 0x01) => SigningKeyCurve.Secp256k1,
                    (0x80, 0x24) => SigningKeyCurve.P256,
                    _ => null,
                };
                point = bytes[2..];
                break;
        }

        if (curve is null || Compress(point) is not { } compressed)
        {
            return false;
        }

        key = new AtprotoSigningKey(curve.Value, compressed, multibase);
        return true;
    }

    /// <summary>33-byte compressed points pass; 65-byte uncompressed ones (0x04 ‖ x ‖ y) become 0x02/0x03 ‖ x.</summary>
    private static byte[]? Compress(byte[] point) => point switch
    {
        [0x02 or 0x03, ..] when point.Length == 33 => point,
        [0x04, ..] when point.Length == 65 => [(byte)((point[64] & 1) == 0 ? 0x02 : 0x03), .. point.AsSpan(1, 32)],
        _ => null,
    };

    private static bool TryDecodeBase58(ReadOnlySpan<char> text, out byte[] bytes)
    {
        bytes = [];
        if (text.Length > 128)
        {
            return false;
        }

        BigInteger value = 0;
        foreach (var c in text)
        {
            var digit = Base58Alphabet.IndexOf(c, StringComparison.Ordinal);
            if (digit < 0)
            {
                return false;
            }

            value = (value * 58) + digit;
        }

        var leadingZeros = 0;
        while (leadingZeros < text.Length && text[leadingZeros] == '1')
        {
            leadingZeros++;
        }

        var body = value.IsZero ? [] : value.ToByteArray(isUnsigned: true, isBigEndian: true);
        bytes = new byte[leadingZeros + body.Length];
        body.CopyTo(bytes, leadingZeros);
        return true;
    }
}
