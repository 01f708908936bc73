using System.Formats.Cbor;
using Chive.AtProto.Repo;
using Chive.Testing;

namespace Chive.Tests.AtProto;

/// <summary>A CAR taken apart and put back together, to alter (tests only).</summary>
internal sealed record Car(BinaryCid Root, List<(BinaryCid Cid, byte[] Data)> Blocks)
{
    public static Car Parse(byte[] bytes)
    {
        var at = 0;
        var header = Section(bytes, ref at);
        var reader = new CborReader(header, CborConformanceMode.Lax);
        reader.ReadStartMap();
        BinaryCid? root = null;
        while (reader.PeekState() != CborReaderState.EndMap)
        {
            if (reader.ReadTextString() == "roots")
            {
                reader.ReadStartArray();
                reader.ReadTag();
                root = BinaryCid.Read(reader.ReadByteString().AsSpan(1)).Cid;
                while (reader.PeekState() != CborReaderState.EndArray)
                {
                    reader.SkipValue();
                }

                reader.ReadEndArray();
            }
            else
            {
                reader.SkipValue();
            }
        }

        var blocks = new List<(BinaryCid, byte[])>();
        while (at < bytes.Length)
        {
            var section = Section(bytes, ref at);
            var (cid, length, _) = BinaryCid.Read(section);
            blocks.Add((cid!, section[length..]));
        }

        return new Car(root!, blocks);
    }

    public Car With(BinaryCid cid, byte[] data) => this with { Blocks = [.. Blocks.Select(b => b.Cid == cid ? (cid, data) : b)] };

    public Commit Commit() => new(Blocks.Single(b => b.Cid == Root).Data);

    /// <summary>The commit replaced by <paramref name="commit"/>, stored under its own CID, which becomes the root.</summary>
    public Car WithCommit(Commit commit)
    {
        var bytes = commit.Encode();
        var cid = BinaryCid.Of(bytes);
        return new Car(cid, [.. Blocks.Where(b => b.Cid != Root), (cid, bytes)]);
    }

    public byte[] Write() => RepoWriter.WriteCar(Root, Blocks);

    private static byte[] Section(byte[] bytes, ref int at)
    {
        ulong length = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = bytes[at++];
            length |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                break;
            }
        }

        var section = bytes[at..(at + (int)length)];
        at += (int)length;
        return section;
    }
}

/// <summary>A commit's fields as encoded values, re-encoded in DAG-CBOR's key order (length, then bytes).</summary>
internal sealed class Commit
{
    private readonly SortedDictionary<string, byte[]> _fields = new(Comparer<string>.Create((a, b) => a.Length != b.Length ? a.Length.CompareTo(b.Length) : string.CompareOrdinal(a, b)));

    public Commit(byte[] block)
    {
        var reader = new CborReader(block);
        var count = reader.ReadStartMap();
        for (var i = 0; i < count; i++)
        {
            _fields[reader.ReadTextString()] = reader.ReadEncodedValue().ToArray();
        }
    }

    private Commit(SortedDictionary<string, byte[]> fields)
    {
        foreach (var (key, value) in fields)
        {
            _fields[key] = value;
        }
    }

    public byte[] Bytes(string field) => new CborReader(_fields[field]).ReadByteString();

    public Commit With(string field, byte[] bytes)
    {
        var writer = new CborWriter();
        writer.WriteByteString(bytes);
        var copy = new Commit(_fields);
        copy._fields[field] = writer.Encode();
        return copy;
    }

    public Commit WithLink(string field, BinaryCid cid)
    {
        var writer = new CborWriter();
        writer.WriteTag((CborTag)42);
        writer.WriteByteString([0x00, .. cid.ToBytes()]);
        var copy = new Commit(_fields);
        copy._fields[field] = writer.Encode();
        return copy;
    }

    public byte[] Unsigned() => Encode(without: "sig");

    public byte[] Encode(string? without = null)
    {
        var fields = _fields.Where(f => f.Key != without).ToList();
        var writer = new CborWriter(CborConformanceMode.Lax);
        writer.WriteStartMap(fields.Count);
        foreach (var (key, value) in fields)
        {
            writer.WriteTextString(key);
            writer.WriteEncodedValue(value);
        }

        writer.WriteEndMap();
        return writer.Encode();
    }
}

/// <summary>Bytes altered the smallest way: a copy with the last bit of the last byte flipped.</summary>
internal static class Altered
{
    public static byte[] Flip(byte[] data)
    {
        var copy = (byte[])data.Clone();
        copy[^1] ^= 0x01;
        return copy;
    }
}
