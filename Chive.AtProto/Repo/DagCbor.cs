using System.Buffers;
using System.Formats.Cbor;
using System.Text;
using System.Text.Json;

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

    /// <summary>
    /// The JSON text of a whole block (nothing may follow it), written as the block is read — no tree in between: a verified
    /// scan turns every record it reads into the text it sends on, and a tree of nodes per record, serialized and parsed
    /// again, was most of that work. <paramref name="isObject"/>: whether the value is a map (a record must be).
    /// </summary>
    public static string ToJsonText(ReadOnlyMemory<byte> block, out bool isObject)
    {
        try
        {
            var reader = new CborReader(block, CborConformanceMode.Strict);
            isObject = reader.PeekState() == CborReaderState.StartMap;
            var buffer = new ArrayBufferWriter<byte>(Math.Max(256, block.Length * 2));
            using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true }))
            {
                Write(reader, writer, 0);
            }

            if (reader.BytesRemaining != 0)
            {
                throw new DagCborException("bytes after the value");
            }

            return Encoding.UTF8.GetString(buffer.WrittenSpan);
        }
        catch (Exception ex) when (ex is CborContentException or InvalidOperationException or FormatException or OverflowException)
        {
            throw new DagCborException($"not DAG-CBOR: {ex.Message}", ex);
        }
    }

    /// <summary>The JSON text of a whole block, whatever its kind.</summary>
    public static string ToJsonText(ReadOnlyMemory<byte> block) => ToJsonText(block, out _);

    private static void Write(CborReader reader, Utf8JsonWriter writer, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new DagCborException($"nested deeper than {MaxDepth}");
        }

        switch (reader.PeekState())
        {
            case CborReaderState.StartMap:
                var count = reader.ReadStartMap() ?? throw new DagCborException("a map of indefinite length");
                writer.WriteStartObject();
                // The reader's strict mode refuses a key repeated byte for byte, not one repeated with a longer length
                // header (61 61 and 78 01 61 are both "a"): the keys are compared as text.
                var keys = count > 1 ? new HashSet<string>(StringComparer.Ordinal) : null;
                for (var i = 0; i < count; i++)
                {
                    if (reader.PeekState() != CborReaderState.TextString)
                    {
                        throw new DagCborException("a map key that is not text");
                    }

                    var key = reader.ReadTextString();
                    if (keys is not null && !keys.Add(key))
                    {
                        throw new DagCborException($"the key '{key}' twice in one map");
                    }

                    writer.WritePropertyName(key);
                    Write(reader, writer, depth + 1);
                }

                reader.ReadEndMap();
                writer.WriteEndObject();
                return;
            case CborReaderState.StartArray:
                var length = reader.ReadStartArray() ?? throw new DagCborException("an array of indefinite length");
                writer.WriteStartArray();
                for (var i = 0; i < length; i++)
                {
                    Write(reader, writer, depth + 1);
                }

                reader.ReadEndArray();
                writer.WriteEndArray();
                return;
            case CborReaderState.TextString:
                writer.WriteStringValue(reader.ReadTextString());
                return;
            case CborReaderState.UnsignedInteger:
            case CborReaderState.NegativeInteger:
                writer.WriteNumberValue(reader.ReadInt64());
                return;
            case CborReaderState.Boolean:
                writer.WriteBooleanValue(reader.ReadBoolean());
                return;
            case CborReaderState.Null:
                reader.ReadNull();
                writer.WriteNullValue();
                return;
            case CborReaderState.ByteString:
                writer.WriteStartObject();
                writer.WriteString("$bytes", Convert.ToBase64String(reader.ReadByteString()).TrimEnd('='));
                writer.WriteEndObject();
                return;
            case CborReaderState.Tag when reader.PeekTag() == Link:
                reader.ReadTag();
                writer.WriteStartObject();
                writer.WriteString("$link", ReadLink(reader).ToString());
                writer.WriteEndObject();
                return;
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
