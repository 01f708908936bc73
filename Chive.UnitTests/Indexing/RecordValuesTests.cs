using System.Text;
using Chive.AtProto.Data;

namespace Chive.UnitTests.Indexing;

/// <summary>What can be stored as a record at all: every unstorable shape has its own reason; ordinary records have none.</summary>
public sealed class RecordValuesTests
{
    public static TheoryData<string, string> Unstorable() => new()
    {
        // JSON text, the start of the reason
        { "{\"title\":\"a\\u0000b\"}", "a string contains a NUL character" },
        { "{\"a\\u0000\":1}", "a key contains a NUL character" },
        { "{\"title\":\"\\ud800\"}", "a string contains an unpaired surrogate" },
        { "{\"title\":\"\\udc00x\"}", "a string contains an unpaired surrogate" },
        { "{\"title\":\"x\\ud83d\"}", "a string contains an unpaired surrogate" },
        { "{\"\\ud800\":1}", "a key contains an unpaired surrogate" },
        { "{\"title\":\"a\",\"title\":\"b\"}", "duplicate key 'title'" },
        { "{\"a\":{\"b\":1,\"b\":2}}", "duplicate key 'b'" },
        { "{\"n\":1e400}", "a number out of range" },
        { "{\"n\":-1e999}", "a number out of range" },
        { "[1,2,3]", "not a JSON object" },
        { "\"just a string\"", "not a JSON object" },
        { "null", "not a JSON object" },
        { "{\"title\":", "not valid JSON" },
        { "{'title':'single quotes'}", "not valid JSON" },
        { "{\"title\":\"trailing\",}", "not valid JSON" },
        { "{\"n\":NaN}", "not valid JSON" },
        { "", "not valid JSON" },
        { new string('[', 0) + "{\"a\":" + string.Concat(Enumerable.Repeat("[", 80)) + string.Concat(Enumerable.Repeat("]", 80)) + "}", "nested deeper than" },
        { "{\"a\":" + string.Concat(Enumerable.Repeat("{\"b\":", 70)) + "1" + new string('}', 70) + "}", "nested deeper than" },
    };

    [Theory]
    [MemberData(nameof(Unstorable))]
    public void An_unstorable_record_has_a_reason(string json, string reason) =>
        Assert.StartsWith(reason, RecordValues.Problem(json), StringComparison.Ordinal);

    [Theory]
    [InlineData(new byte[] { 0xC3, 0x28 }, "a string is not UTF-8")]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 }, "a string is not UTF-8")] // a surrogate written as UTF-8 bytes, unescaped
    [InlineData(new byte[] { 0x61, 0x00, 0x62 }, "not valid JSON")] // a raw NUL: the reader refuses it before any check
    public void Unescaped_bytes_that_are_no_text_have_a_reason(byte[] inside, string reason)
    {
        byte[] json = [.. Encoding.UTF8.GetBytes("{\"title\":\""), .. inside, .. Encoding.UTF8.GetBytes("\"}")];
        Assert.StartsWith(reason, RecordValues.Problem(json), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"title\":\"Quantum gravity 🪐 in a box\",\"n\":3,\"f\":0.5,\"b\":true,\"z\":null}")]
    [InlineData("{\"title\":\"\\ud83e\\ude90 escaped pair\"}")]
    [InlineData("{\"a\":{\"a\":{\"a\":1}},\"b\":[{\"a\":1},{\"a\":2}]}")]
    [InlineData("{\"big\":12345678901234567890123456789,\"small\":-1e300}")]
    public void An_ordinary_record_has_none(string json) => Assert.Null(RecordValues.Problem(json));

    [Fact]
    public void Sixty_levels_are_fine_and_a_hundred_are_not()
    {
        static string Nested(int depth) => string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth);
        Assert.Null(RecordValues.Problem(Nested(60)));
        Assert.StartsWith("nested deeper than", RecordValues.Problem(Nested(100)), StringComparison.Ordinal);
    }
}
