using System.Net;
using Chive.AtProto.Net;
using Chive.AtProto.Xrpc;
using Chive.Testing;
using Chive.Testing.Doubles;

namespace Chive.UnitTests.AtProto;

public sealed class SsrfGuardTests
{
    /// <summary>Addresses and URLs that user data could point us at, each with what allow-lists it.</summary>
    public static TheoryData<string, string> Forbidden => new()
    {
        { "http://127.0.0.1/", "127.0.0.1/32" },
        { "http://127.1.2.3:8080/xrpc/com.atproto.sync.listRepos", "127.0.0.0/8" },
        { "http://[::1]/", "::1/128" },
        { "http://10.0.0.1/", "10.0.0.0/8" },
        { "https://10.255.255.255/", "10.255.255.255/32" },
        { "http://172.16.0.1/", "172.16.0.0/12" },
        { "http://172.31.255.254/", "172.31.255.254/32" },
        { "http://192.168.1.1/", "192.168.0.0/16" },
        { "http://169.254.169.254/latest/meta-data/", "169.254.169.254/32" },
        { "http://169.254.10.20/", "169.254.0.0/16" },
        { "http://[fd00::1]/", "fd00::/8" },
        { "http://[fd00:ec2::254]/latest/meta-data/", "fd00:ec2::254/128" },
        { "http://[fe80::1]/", "fe80::/10" },
        { "http://100.64.0.1/", "100.64.0.0/10" },
        { "http://100.100.100.200/", "100.100.100.200/32" },
        { "http://0.0.0.0/", "0.0.0.0/32" },
        { "http://[::]/", "::/128" },
        { "http://224.0.0.1/", "224.0.0.0/4" },
        { "http://[ff02::1]/", "ff00::/8" },
        { "http://255.255.255.255/", "255.255.255.255/32" },
        { "http://[::ffff:127.0.0.1]/", "127.0.0.0/8" },
        { "http://[::ffff:10.1.2.3]/", "10.0.0.0/8" },
        { "http://[64:ff9b::a9fe:a9fe]/", "64:ff9b::/96" },          // NAT64 of 169.254.169.254
        { "http://168.63.129.16/", "168.63.129.16/32" },             // Azure platform endpoint
        { "http://[::127.0.0.1]/", "::/96" },                         // IPv4-compatible IPv6 of loopback
        { "http://[::a9fe:a9fe]/", "::/96" },                          // IPv4-compatible IPv6 of 169.254.169.254
        { "http://[::ffff:0:7f00:1]/", "::ffff:0:0:0/96" },            // SIIT of loopback
        { "http://[::ffff:0:a00:1]/", "::ffff:0:0:0/96" },             // SIIT of 10.0.0.1
        { "http://[64:ff9b:1::a00:1]/", "64:ff9b:1::/48" },            // local-use NAT64
        { "http://localhost/", "host:localhost" },                    // a name that resolves to loopback
    };

    [Theory]
    [MemberData(nameof(Forbidden))]
    public async Task Forbidden_addresses_are_refused_unless_allow_listed(string url, string allowance)
    {
        var uri = new Uri(url);
        await Assert.ThrowsAsync<SsrfRefusedException>(() => SsrfGuard.Strict.CheckAsync(uri));

        var allowList = allowance.StartsWith("host:", StringComparison.Ordinal)
            ? new SsrfOptions { AllowedHosts = [allowance["host:".Length..]] }
            : new SsrfOptions { AllowedNetworks = [allowance] };
        var allowed = await new SsrfGuard(allowList).CheckAsync(uri);
        Assert.NotEmpty(allowed);
    }

    /// <summary>Hex, octal, short and single-number spellings: refused as written, whatever they resolve to and whatever is allowed.</summary>
    [Theory]
    [InlineData("http://2130706433/")]
    [InlineData("http://0x7f000001/")]
    [InlineData("http://0x7f.1/")]
    [InlineData("http://0177.0.0.1/")]
    [InlineData("http://0177.1/")]
    [InlineData("http://127.1/")]
    [InlineData("http://127.0.1/")]
    [InlineData("http://0x08.0x08.0x08.0x08/")]
    [InlineData("http://010.010.010.010/")]
    [InlineData("http://8.8.8.8./")]
    [InlineData("http://0xA9.0xFE.0xA9.0xFE:80/latest/meta-data")]
    [InlineData("http://user@0x7f.1:2583/xrpc")]
    public async Task Legacy_IPv4_spellings_are_refused_even_when_their_address_is_allowed(string url)
    {
        var everything = new SsrfGuard(new SsrfOptions { AllowedNetworks = ["0.0.0.0/0", "::/0"] });
        var error = await Assert.ThrowsAsync<SsrfRefusedException>(() => everything.CheckAsync(new Uri(url)));
        Assert.Contains("legacy spelling", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1.2.3.4", false)]
    [InlineData("127.0.0.1", false)]
    [InlineData("example.com", false)]
    [InlineData("deadbeef", false)]
    [InlineData("0xdeadbeef", true)]
    [InlineData("1.2.3", true)]
    [InlineData("01.2.3.4", true)]
    [InlineData("1.2.3.256", true)]
    [InlineData("123", true)]
    [InlineData("1.2.3.4.5", false)]
    [InlineData("face.b00c", false)]
    public void What_counts_as_a_legacy_IPv4_spelling(string host, bool legacy) =>
        Assert.Equal(legacy, SsrfGuard.IsLegacyIPv4(host));

    [Theory]
    [InlineData("file:///etc/passwd")]
    [InlineData("gopher://127.0.0.1:70/_GET")]
    [InlineData("ftp://example.com/pub")]
    [InlineData("ldap://example.com/")]
    public async Task Other_schemes_are_always_refused(string url)
    {
        var everything = new SsrfGuard(new SsrfOptions { AllowedNetworks = ["0.0.0.0/0", "::/0"], AllowedHosts = ["example.com"] });
        var error = await Assert.ThrowsAsync<SsrfRefusedException>(() => everything.CheckAsync(new Uri(url)));
        Assert.Contains("only http and https", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://93.184.215.14/")]
    [InlineData("https://[2606:4700:4700::1111]/")]
    [InlineData("http://8.8.8.8:8080/xrpc/x")]
    public async Task Public_addresses_pass(string url) =>
        Assert.NotEmpty(await SsrfGuard.Strict.CheckAsync(new Uri(url)));

    [Fact]
    public async Task A_request_to_a_name_that_resolves_to_loopback_never_connects()
    {
        await using var server = await HttpFaultProxy.StartNewAsync(new Uri("http://127.0.0.1:9/"));
        var http = TestClients.Http(ssrf: new SsrfOptions());

        var error = await Assert.ThrowsAsync<XrpcException>(() => http.GetAsync(new Uri($"http://localhost:{server.Port}/xrpc/x"), "x", CancellationToken.None));

        Assert.Equal(XrpcErrorKind.Refused, error.Kind);
        Assert.Equal(0, server.Requests);
    }

    [Fact]
    public async Task A_redirect_to_a_metadata_address_is_refused_at_connect()
    {
        await using var server = await HttpFaultProxy.StartNewAsync(new Uri("http://127.0.0.1:9/"));
        server.Always = new HttpFault.Redirect("http://169.254.169.254/latest/meta-data/iam/security-credentials/");
        var http = TestClients.Http(); // loopback allowed, so the first hop is reached

        var error = await Assert.ThrowsAsync<XrpcException>(() => http.GetAsync(new Uri($"http://127.0.0.1:{server.Port}/xrpc/x"), "x", CancellationToken.None));

        Assert.Equal(XrpcErrorKind.Refused, error.Kind);
        Assert.Contains("169.254.169.254", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, server.Requests);
    }

    [Fact]
    public void A_name_with_any_forbidden_address_is_refused()
    {
        Assert.Null(SsrfGuard.Strict.Refusal(IPAddress.Parse("1.1.1.1")));
        Assert.NotNull(SsrfGuard.Strict.Refusal(IPAddress.Parse("10.0.0.1")));
        Assert.NotNull(SsrfGuard.Strict.Refusal(IPAddress.Parse("2002:0a00:0001::1"))); // 6to4 of 10.0.0.1
    }
}
