using System.Formats.Cbor;
using System.Text.Json.Nodes;
using Chive.AtProto.Repo;

namespace Chive.UnitTests.AtProto;

/// <summary>DAG-CBOR blocks as the AT Protocol data model reads them, and what a block from a stranger may not be.</summary>
public sealed class DagCborTests
{
    [Fact]
    public void Maps_arrays_text_integers_booleans_null_bytes_and_links_become_the_JSON_listRecords_answers_with()
    {
        var link = BinaryCid.Of("{}"u8);
        var writer = new CborWriter();
        writer.WriteStartMap(7);
        writer.WriteTextString("t");
        writer.WriteTextString("ünï");
        writer.WriteTextString("n");
        writer.WriteInt64(-42);
        writer.WriteTextString("b");
        writer.WriteBoolean(true);
        writer.WriteTextString("z");
        writer.WriteNull();
        writer.WriteTextString("a");
        writer.WriteStartArray(1);
        writer.WriteInt32(1);
        writer.WriteEndArray();
        writer.WriteTextString("raw");
        writer.WriteByteString([0xde, 0xad, 0xbe, 0xef]);
        writer.WriteTextString("ref");
        writer.WriteTag((CborTag)42);
        writer.WriteByteString([0x00, .. link.ToBytes()]);
        writer.WriteEndMap();

        var json = JsonNode.Parse(DagCbor.ToJsonText(writer.Encode(), out var isObject));

        Assert.True(isObject);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse($$$"""
            {"t":"ünï","n":-42,"b":true,"z":null,"a":[1],"raw":{"$bytes":"3q2+7w"},"ref":{"$link":"{{{link}}}"}}
            """), json));
        Assert.StartsWith("bafyrei", link.ToString(), StringComparison.Ordinal);
    }

    public static TheoryData<string, byte[]> Refused() => new()
    {
        { "a float", Encode(w => w.WriteDouble(1.5)) },
        { "a map key that is not text", Encode(w => { w.WriteStartMap(1); w.WriteInt32(1); w.WriteInt32(2); w.WriteEndMap(); }) },
        { "a tag other than 42", Encode(w => { w.WriteTag(CborTag.DateTimeString); w.WriteTextString("2026-01-01T00:00:00Z"); }) },
        { "a link without its 0x00 prefix", Encode(w => { w.WriteTag((CborTag)42); w.WriteByteString(BinaryCid.Of("x"u8).ToBytes()); }) },
        { "an indefinite-length array", Encode(w => { w.WriteStartArray(null); w.WriteEndArray(); }) },
        { "bytes after the value", [.. Encode(w => w.WriteInt32(1)), 0x01] },
        { "nesting deeper than 64", Encode(w => { for (var i = 0; i < 70; i++) { w.WriteStartArray(1); } w.WriteInt32(1); for (var i = 0; i < 70; i++) { w.WriteEndArray(); } }) },
        { "a key twice", [0xa2, 0x61, 0x61, 0x01, 0x61, 0x61, 0x02] },
        { "a key twice, once with a longer length header", [0xa2, 0x61, 0x61, 0x01, 0x78, 0x01, 0x61, 0x02] },
        { "not CBOR at all", [0xff, 0xff] },
        { "an integer beyond 64 bits signed", Encode(w => w.WriteUInt64(ulong.MaxValue)) },
        { "a negative integer beyond 64 bits signed", Encode(w => w.WriteCborNegativeIntegerRepresentation(ulong.MaxValue)) },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void A_block_outside_the_data_model_is_refused(string what, byte[] block)
    {
        Assert.NotNull(what);
        Assert.Throws<DagCborException>(() => DagCbor.ToJsonText(block));
    }

    [Fact]
    public void A_binary_CID_reads_back_as_written_and_only_SHA_256_CIDv1_is_accepted()
    {
        var cid = BinaryCid.Of("hello"u8, BinaryCid.Raw);

        var (read, length, error) = BinaryCid.Read([.. cid.ToBytes(), 0x99]);

        Assert.Equal((cid, 36, (string?)null), (read, length, error));
        Assert.True(cid.Matches("hello"u8));
        Assert.False(cid.Matches("hellO"u8));
        Assert.StartsWith("bafkrei", cid.ToString(), StringComparison.Ordinal);
        Assert.Equal("not a CIDv1", BinaryCid.Read([0x00, 0x71, 0x12, 0x20]).Error);
        Assert.Equal("a CID whose hash is not SHA-256", BinaryCid.Read([0x01, 0x71, 0x13, 0x20, .. new byte[32]]).Error);
        Assert.Equal("a CID cut short", BinaryCid.Read([0x01, 0x71, 0x12, 0x20, .. new byte[10]]).Error);
    }

    private static byte[] Encode(Action<CborWriter> write)
    {
        var writer = new CborWriter(CborConformanceMode.Lax, allowMultipleRootLevelValues: false);
        write(writer);
        return writer.Encode();
    }
}
