using System.Text;
using Chive.AtProto.Identity;
using Chive.ScanWorker.PdsScan;

namespace Chive.UnitTests.AtProto;

public sealed class PlcExportTests
{
    private const string Honest = """{"did":"did:plc:aaaaaaaaaaaaaaaaaaaaaaaa","operation":{"type":"plc_operation","services":{"atproto_pds":{"type":"AtprotoPersonalDataServer","endpoint":"https://pds.example.org"}}},"cid":"bafy","nullified":false,"createdAt":"2026-11-30T05:53:41.899Z"}""";

    [Fact]
    public void Operations_legacy_creates_tombstones_and_nullified_ones_are_read_as_the_directory_wrote_them()
    {
        var page = PlcExport.Parse(Bytes(
            Honest,
            """{"did":"did:plc:bbbbbbbbbbbbbbbbbbbbbbbb","operation":{"type":"create","service":"https://old.example"},"nullified":true,"createdAt":"2026-11-30T05:53:42.000Z"}""",
            """{"did":"did:plc:cccccccccccccccccccccccc","operation":{"type":"plc_tombstone"},"createdAt":"2026-11-30T05:53:43.000Z"}"""));

        Assert.Equal((3, 0), (page.Lines, page.Invalid));
        Assert.Equal(["https://pds.example.org", "https://old.example", null], page.Entries.Select(e => e.PdsEndpoint));
        Assert.Equal([false, true, false], page.Entries.Select(e => e.Nullified));
        Assert.Equal(DateTimeOffset.Parse("2026-11-30T05:53:43Z", System.Globalization.CultureInfo.InvariantCulture), page.Last);
    }

    [Fact]
    public void Lines_that_are_not_operations_are_counted_and_skipped()
    {
        var page = PlcExport.Parse(Bytes(
            "not json",
            "[1,2,3]",
            """{"did":"did:web:example.com","createdAt":"2026-11-30T05:53:41.899Z"}""",
            """{"did":"did:plc:aaaaaaaaaaaaaaaaaaaaaaaa","createdAt":"yesterday"}""",
            """{"did":"did:plc:aaaaaaaaaaaaaaaaaaaaaaaa","createdAt":"2026-11-30T05:53:41.899Z","operation":{"type":"plc_operation","services":{"atproto_pds":{"endpoint":7}}}}""",
            "{\"did\":\"did:plc:" + new string('a', 70_000) + "\"}",
            new string('[', 100) + new string(']', 100),
            "",
            Honest));

        Assert.Equal((8, 6), (page.Lines, page.Invalid));
        Assert.Equal([null, "https://pds.example.org"], page.Entries.Select(e => e.PdsEndpoint));
    }

    [Fact]
    public void The_after_parameter_is_the_directorys_time_format() =>
        Assert.Equal("2026-11-30T05:53:41.899Z", PlcExport.Format(new DateTimeOffset(2026, 11, 30, 6, 53, 41, 899, TimeSpan.FromHours(1))));

    [Theory]
    [InlineData("pds-7.us-east.host.bsky.network", true)]
    [InlineData("bsky.social", true)]
    [InlineData("BSKY.SOCIAL", true)]
    [InlineData("notbsky.social", false)]
    [InlineData("bsky.network.evil.example", false)]
    [InlineData("pds.example.org", false)]
    public void Bluesky_hosts_are_ignored_by_default(string host, bool ignored) =>
        Assert.Equal(ignored, new DiscoveryOptions().Ignores(host));

    private static ReadOnlyMemory<byte> Bytes(params string[] lines) => Encoding.UTF8.GetBytes(string.Join('\n', lines));
}
