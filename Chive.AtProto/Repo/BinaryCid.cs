using System.Security.Cryptography;

namespace Chive.AtProto.Repo;

/// <summary>
/// A CIDv1 as repo CAR files carry them: version 1, a codec (<c>0x71</c> DAG-CBOR, <c>0x55</c> raw), a SHA-256
/// multihash (<c>0x12</c>, 32 bytes). Its string form is base32 lowercase with the <c>b</c> multibase prefix, as
/// everywhere in the AT Protocol. Nothing else is accepted: a repo block named otherwise is refused.
/// </summary>
public sealed record BinaryCid(ulong Codec, byte[] Digest)
{
    public const ulong DagCbor = 0x71;
    public const ulong Raw = 0x55;
    private const ulong Sha256 = 0x12;

    /// <summary>The CID of <paramref name="block"/> with <paramref name="codec"/>.</summary>
    public static BinaryCid Of(ReadOnlySpan<byte> block, ulong codec = DagCbor) => new(codec, SHA256.HashData(block));

    /// <summary>Whether <paramref name="block"/>'s SHA-256 is this CID's digest.</summary>
    public bool Matches(ReadOnlySpan<byte> block)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(block, hash);
        return hash.SequenceEqual(Digest);
    }

    /// <summary>Reads a CID from the start of <paramref name="bytes"/>; the number of bytes it took, or an error.</summary>
    public static (BinaryCid? Cid, int Length, string? Error) Read(ReadOnlySpan<byte> bytes)
    {
        var at = 0;
        if (!Varint.TryRead(bytes, ref at, out var version) || version != 1)
        {
            return (null, 0, "not a CIDv1");
        }

        if (!Varint.TryRead(bytes, ref at, out var codec) || codec is not (DagCbor or Raw))
        {
            return (null, 0, "a CID codec other than DAG-CBOR or raw");
        }

        if (!Varint.TryRead(bytes, ref at, out var hash) || hash != Sha256 || !Varint.TryRead(bytes, ref at, out var length) || length != 32)
        {
            return (null, 0, "a CID whose hash is not SHA-256");
        }

        if (bytes.Length < at + 32)
        {
            return (null, 0, "a CID cut short");
        }

        return (new BinaryCid(codec, bytes.Slice(at, 32).ToArray()), at + 32, null);
    }

    public byte[] ToBytes() => [0x01, (byte)Codec, 0x12, 0x20, .. Digest];

    /// <summary><c>b</c> + base32 (RFC 4648, lowercase, no padding) of the binary CID.</summary>
    public override string ToString()
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz234567";
        var bytes = ToBytes();
        var text = new System.Text.StringBuilder("b", 1 + (bytes.Length * 8 + 4) / 5);
        int buffer = 0, bits = 0;
        foreach (var b in bytes)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                text.Append(alphabet[(buffer >> (bits - 5)) & 31]);
                bits -= 5;
            }
        }

        if (bits > 0)
        {
            text.Append(alphabet[(buffer << (5 - bits)) & 31]);
        }

        return text.ToString();
    }

    public bool Equals(BinaryCid? other) => other is not null && Codec == other.Codec && Digest.AsSpan().SequenceEqual(other.Digest);

    public override int GetHashCode() => HashCode.Combine(Codec, BitConverter.ToInt32(Digest, 0));
}

/// <summary>Unsigned LEB128 varints (multiformats, CAR section lengths), at most 9 bytes.</summary>
internal static class Varint
{
    public static bool TryRead(ReadOnlySpan<byte> bytes, ref int at, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 63; shift += 7)
        {
            if (at >= bytes.Length)
            {
                return false;
            }

            var b = bytes[at++];
            value |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                return true;
            }
        }

        return false;
    }
}
