using System.Formats.Cbor;
using System.Text.Json.Nodes;

namespace Chive.AtProto.Repo;

/// <summary>A block that is not DAG-CBOR as the AT Protocol data model allows it.</summary>
public sealed class DagCborException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// DAG-CBOR (<see cref="System.Formats.Cbor"/>) to and from the AT Protocol data model: maps with text keys, arrays,
/// text, integers, booleans, null, bytes (<c>{"$bytes": base64}</c> in JSON) and links (tag 42, <c>{"$link": cid}</c>) —
/// the JSON a PDS's <c>listRecords</c> answers with. Floats, other tags, non-text keys, duplicate keys, indefinite
/// lengths and nesting deeper than <see cref="MaxDepth"/> are refused.
/// </summary>
public static class DagCbor
{
    public const int MaxDepth = 64;
    private const CborTag Link = (CborTag)42;

    /// <summary>The value of a whole block (nothing may follow it).</summary>
    public static JsonNode? ToJson(ReadOnlyMemory<byte> block)
    {
        try
        {
            var reader = new CborReader(block, CborConformanceMode.Strict);
            var value = Read(reader, 0);
            if (reader.BytesRemaining != 0)
            {
                throw new DagCborException("bytes after the value");
            }

            return value;
        }
        catch (Exception ex) when (ex is CborContentException or InvalidOperationException or FormatException or OverflowException)
        {
            throw new DagCborException($"not DAG-CBOR: {ex.Message}", ex);
        }
    }

    private static JsonNode? Read(CborReader reader, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new DagCborException($"nested deeper than {MaxDepth}");
        }

        switch (reader.PeekState())
        {
            case CborReaderState.StartMap:
                var count = reader.ReadStartMap() ?? throw new DagCborException("a map of indefinite length");
                var map = new JsonObject();
                for (var i = 0; i < count; i++)
                {
                    if (reader.PeekState() != CborReaderState.TextString)
                    {
                        throw new DagCborException("a map key that is not text");
                    }

                    var key = reader.ReadTextString();
                    if (!map.TryAdd(key, Read(reader, depth + 1)))
                    {
                        throw new DagCborException($"the key '{key}' twice in one map");
                    }
                }

                reader.ReadEndMap();
                return map;
            case CborReaderState.StartArray:
                var length = reader.ReadStartArray() ?? throw new DagCborException("an array of indefinite length");
                var array = new JsonArray();
                for (var i = 0; i < length; i++)
                {
                    array.Add(Read(reader, depth + 1));
                }

                reader.ReadEndArray();
                return array;
            case CborReaderState.TextString:
                return JsonValue.Create(reader.ReadTextString());
            case CborReaderState.UnsignedInteger:
            case CborReaderState.NegativeInteger:
                return JsonValue.Create(reader.ReadInt64());
            case CborReaderState.Boolean:
                return JsonValue.Create(reader.ReadBoolean());
            case CborReaderState.Null:
                reader.ReadNull();
                return null;
            case CborReaderState.ByteString:
                return new JsonObject { ["$bytes"] = Convert.ToBase64String(reader.ReadByteString()).TrimEnd('=') };
            case CborReaderState.Tag when reader.PeekTag() == Link:
                reader.ReadTag();
                return new JsonObject { ["$link"] = ReadLink(reader).ToString() };
            default:
                throw new DagCborException($"a {reader.PeekState()}, which the AT Protocol data model does not have");
        }
    }

    /// <summary>A link's CID: tag 42 over bytes 0x00 ‖ binary CID.</summary>
    internal static BinaryCid ReadLink(CborReader reader)
    {
        var bytes = reader.ReadByteString();
        var (cid, length, error) = bytes.Length > 0 && bytes[0] == 0 ? BinaryCid.Read(bytes.AsSpan(1)) : (null, 0, "a link without its 0x00 prefix");
        return cid is not null && length == bytes.Length - 1 ? cid : throw new DagCborException(error ?? "a link with bytes after its CID");
    }

    internal static void WriteLink(CborWriter writer, BinaryCid cid)
    {
        writer.WriteTag(Link);
        writer.WriteByteString([0x00, .. cid.ToBytes()]);
    }
}
