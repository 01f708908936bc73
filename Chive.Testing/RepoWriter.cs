using System.Formats.Cbor;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Chive.AtProto.Repo;

namespace Chive.Testing;

/// <summary>
/// Writes repos as a PDS serves them from <c>getRepo</c>, for the test doubles that play PDSes: records in DAG-CBOR
/// (canonical key order; <c>$link</c> and <c>$bytes</c> as links and bytes), an MST of one node holding every key
/// (valid for a reader: keys in order, prefix-compressed — a real PDS spreads keys over layers by their hash, which no
/// reader needs to check, since the signature covers whatever tree the owner signed), a version-3 commit signed with the
/// double's key, all in a CAR v1 file.
/// </summary>
public static class RepoWriter
{
    /// <summary>The record's DAG-CBOR bytes (its CID is <see cref="BinaryCid.Of"/> of them).</summary>
    public static byte[] Encode(JsonNode? value)
    {
        var writer = new CborWriter(CborConformanceMode.Lax);
        Write(writer, value);
        return writer.Encode();
    }

    /// <summary>A signed repo of <paramref name="records"/> (key <c>collection/rkey</c> → value) as CAR bytes.</summary>
    public static byte[] Car(string did, string rev, IEnumerable<KeyValuePair<string, JsonObject>> records, ServiceAuthSigner signer)
    {
        var blocks = new List<(BinaryCid Cid, byte[] Data)>();
        var entries = new List<(byte[] Key, BinaryCid Value)>();
        foreach (var (key, value) in records.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            var data = Encode(value);
            var cid = BinaryCid.Of(data);
            blocks.Add((cid, data));
            entries.Add((Encoding.ASCII.GetBytes(key), cid));
        }

        var node = new CborWriter(CborConformanceMode.Lax);
        node.WriteStartMap(2);
        node.WriteTextString("e");
        node.WriteStartArray(entries.Count);
        byte[] previous = [];
        foreach (var (key, value) in entries)
        {
            var shared = 0;
            while (shared < Math.Min(previous.Length, key.Length) && previous[shared] == key[shared])
            {
                shared++;
            }

            node.WriteStartMap(4);
            node.WriteTextString("k");
            node.WriteByteString(key[shared..]);
            node.WriteTextString("p");
            node.WriteInt32(shared);
            node.WriteTextString("t");
            node.WriteNull();
            node.WriteTextString("v");
            WriteLink(node, value);
            node.WriteEndMap();
            previous = key;
        }

        node.WriteEndArray();
        node.WriteTextString("l");
        node.WriteNull();
        node.WriteEndMap();
        var root = node.Encode();
        var rootCid = BinaryCid.Of(root);
        blocks.Add((rootCid, root));

        byte[] Commit(byte[]? signature)
        {
            var commit = new CborWriter(CborConformanceMode.Lax);
            commit.WriteStartMap(signature is null ? 5 : 6);
            commit.WriteTextString("did");
            commit.WriteTextString(did);
            commit.WriteTextString("rev");
            commit.WriteTextString(rev);
            if (signature is not null)
            {
                commit.WriteTextString("sig");
                commit.WriteByteString(signature);
            }

            commit.WriteTextString("data");
            WriteLink(commit, rootCid);
            commit.WriteTextString("prev");
            commit.WriteNull();
            commit.WriteTextString("version");
            commit.WriteInt32(3);
            commit.WriteEndMap();
            return commit.Encode();
        }

        var signed = Commit(signer.SignBytes(Commit(null)));
        var commitCid = BinaryCid.Of(signed);
        blocks.Insert(0, (commitCid, signed));
        return WriteCar(commitCid, blocks);
    }

    /// <summary>A CAR v1 file: the header naming <paramref name="root"/>, then each block as a varint-prefixed section.</summary>
    public static byte[] WriteCar(BinaryCid root, IEnumerable<(BinaryCid Cid, byte[] Data)> blocks)
    {
        var header = new CborWriter(CborConformanceMode.Lax);
        header.WriteStartMap(2);
        header.WriteTextString("roots");
        header.WriteStartArray(1);
        WriteLink(header, root);
        header.WriteEndArray();
        header.WriteTextString("version");
        header.WriteInt32(1);
        header.WriteEndMap();

        using var car = new MemoryStream();
        Section(car, header.Encode());
        foreach (var (cid, data) in blocks)
        {
            Section(car, [.. cid.ToBytes(), .. data]);
        }

        return car.ToArray();
    }

    private static void Write(CborWriter writer, JsonNode? value)
    {
        switch (value)
        {
            case null:
                writer.WriteNull();
                break;
            case JsonObject link when link.Count == 1 && link["$link"] is JsonValue cid:
                var (parsed, _, _) = ParseCid(cid.GetValue<string>());
                WriteLink(writer, parsed);
                break;
            case JsonObject bytes when bytes.Count == 1 && bytes["$bytes"] is JsonValue text:
                var b64 = text.GetValue<string>();
                writer.WriteByteString(Convert.FromBase64String(b64.PadRight(b64.Length + (4 - b64.Length % 4) % 4, '=')));
                break;
            case JsonObject map:
                // DAG-CBOR's canonical order: shorter keys first, then bytewise.
                var keys = map.Select(p => p.Key).OrderBy(k => Encoding.UTF8.GetByteCount(k)).ThenBy(k => k, StringComparer.Ordinal).ToList();
                writer.WriteStartMap(keys.Count);
                foreach (var key in keys)
                {
                    writer.WriteTextString(key);
                    Write(writer, map[key]);
                }

                writer.WriteEndMap();
                break;
            case JsonArray array:
                writer.WriteStartArray(array.Count);
                foreach (var item in array)
                {
                    Write(writer, item);
                }

                writer.WriteEndArray();
                break;
            default:
                // By JSON kind, whatever .NET type the node was built from.
                switch (value.GetValueKind())
                {
                    case JsonValueKind.String:
                        writer.WriteTextString(value.GetValue<string>());
                        break;
                    case JsonValueKind.Number:
                        writer.WriteInt64(long.Parse(value.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture));
                        break;
                    case JsonValueKind.True or JsonValueKind.False:
                        writer.WriteBoolean(value.GetValueKind() == JsonValueKind.True);
                        break;
                    default:
                        throw new ArgumentException($"no DAG-CBOR for {value.GetValueKind()}");
                }

                break;
        }
    }

    private static (BinaryCid Cid, int Length, string? Error) ParseCid(string text)
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz234567";
        var bytes = new List<byte>();
        int buffer = 0, bits = 0;
        foreach (var c in text[1..])
        {
            buffer = (buffer << 5) | alphabet.IndexOf(c, StringComparison.Ordinal);
            bits += 5;
            if (bits >= 8)
            {
                bytes.Add((byte)(buffer >> (bits - 8)));
                bits -= 8;
            }
        }

        var (cid, length, error) = BinaryCid.Read(bytes.ToArray());
        return (cid ?? throw new ArgumentException($"not a CID: {error}"), length, error);
    }

    private static void WriteLink(CborWriter writer, BinaryCid cid)
    {
        writer.WriteTag((CborTag)42);
        writer.WriteByteString([0x00, .. cid.ToBytes()]);
    }

    private static void Section(Stream output, byte[] section)
    {
        var length = (ulong)section.Length;
        do
        {
            var b = (byte)(length & 0x7f);
            length >>= 7;
            output.WriteByte(length > 0 ? (byte)(b | 0x80) : b);
        }
        while (length > 0);
        output.Write(section);
    }
}
