using Chive.AtProto.Identifiers;

namespace Chive.UnitTests.AtProto;

public sealed class IdentifierTests
{
    [Theory]
    [InlineData("did:plc:ewvi7nxzyoun6zhxrhs64oiz", DidMethod.Plc)]
    [InlineData("did:web:example.com", DidMethod.Web)]
    [InlineData("did:web:localhost%3A8080", DidMethod.Web)]
    [InlineData("did:web:sub.example-host.co.uk", DidMethod.Web)]
    public void Valid_DIDs_parse(string input, DidMethod method)
    {
        var did = Did.Parse(input);
        Assert.Equal(input, did.Value);
        Assert.Equal(method, did.Method);
    }

    [Theory]
    [InlineData(null, "empty")]
    [InlineData("", "empty")]
    [InlineData("plc:ewvi7nxzyoun6zhxrhs64oiz", "not of the form")]
    [InlineData("did:plc:ewvi7nxzyoun6zhxrhs64oi", "24 characters")]          // 23
    [InlineData("did:plc:ewvi7nxzyoun6zhxrhs64oiz0", "24 characters")]        // 25
    [InlineData("did:plc:EWVI7NXZYOUN6ZHXRHS64OIZ", "24 characters")]         // upper case
    [InlineData("did:plc:ewvi7nxzyoun6zhxrhs64o18", "24 characters")]         // 1 and 8 are not base32
    [InlineData("did:web:exa_mple.com", "valid hostname")]
    [InlineData("did:web:example.com:path:to", "path")]
    [InlineData("did:web:localhost%3A99999", "port")]
    [InlineData("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", "only the did:plc and did:web")]
    [InlineData("did:plc:ewvi7nxzyoun6zhxrhs64oiz/", "not of the form")]
    public void Invalid_DIDs_are_typed_errors_naming_the_problem(string? input, string reason)
    {
        var error = Assert.Throws<InvalidIdentifierException>(() => Did.Parse(input));
        Assert.Equal(IdentifierKind.Did, error.Kind);
        Assert.Contains(reason, error.Reason, StringComparison.Ordinal);
        Assert.False(Did.TryParse(input, out _));
    }

    [Fact]
    public void A_did_web_host_decodes_its_port() =>
        Assert.Equal("localhost:8080", Did.Parse("did:web:localhost%3A8080").WebHost);

    [Theory]
    [InlineData("alice.test", true)]
    [InlineData("Alice.Bsky.Social", true)]
    [InlineData("xn--ls8h.test", true)]
    [InlineData("alice", false)]
    [InlineData("alice.123", false)]
    [InlineData("-alice.test", false)]
    [InlineData("al ice.test", false)]
    [InlineData("", false)]
    public void Handles(string input, bool valid)
    {
        Assert.Equal(valid, Handle.TryParse(input, out var handle, out _));
        if (valid)
        {
            Assert.Equal(input.ToLowerInvariant(), handle!.Value);
        }
        else
        {
            Assert.Equal(IdentifierKind.Handle, Assert.Throws<InvalidIdentifierException>(() => Handle.Parse(input)).Kind);
        }
    }

    [Theory]
    [InlineData("pub.chive.eprint.submission", true)]
    [InlineData("com.atproto.repo.listRecords", true)]
    [InlineData("pub.chive", false)]
    [InlineData("pub.chive.eprint.", false)]
    [InlineData("pub.chive.eprint.9submission", false)]
    [InlineData("pub.chive.eprint.sub-mission", false)]
    [InlineData("pub..chive.submission", false)]
    public void NSIDs(string input, bool valid) => Assert.Equal(valid, Nsid.TryParse(input, out _, out _));

    [Theory]
    [InlineData("3jzfcijpj2z2a", true)]
    [InlineData("self", true)]
    [InlineData("a:b~c_d.e-f", true)]
    [InlineData(".", false)]
    [InlineData("..", false)]
    [InlineData("has/slash", false)]
    [InlineData("has space", false)]
    [InlineData("", false)]
    public void Record_keys(string input, bool valid) => Assert.Equal(valid, RecordKey.TryParse(input, out _, out _));

    [Theory]
    [InlineData("bafyreibidxi32k5g6ffkqrif7oqf23gvgnrrzjs5w2xraxwmlxgcgucj7i", true)]
    [InlineData("QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG", true)]
    [InlineData("bafy", false)]
    [InlineData("BAFYREIBIDXI32K5G6FFKQRIF7OQF23", false)]
    [InlineData("not-a-cid", false)]
    public void CIDs(string input, bool valid) => Assert.Equal(valid, Cid.TryParse(input, out _, out _));

    [Fact]
    public void A_record_AT_URI_parses_into_its_parts()
    {
        var uri = AtUri.Parse("at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/pub.chive.eprint.submission/3jzfcijpj2z2a");
        Assert.Equal("did:plc:ewvi7nxzyoun6zhxrhs64oiz", uri.Repo.Value);
        Assert.Equal("pub.chive.eprint.submission", uri.Collection.Value);
        Assert.Equal("3jzfcijpj2z2a", uri.RecordKey.Value);
        Assert.Equal("at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/pub.chive.eprint.submission/3jzfcijpj2z2a", uri.ToString());
    }

    [Theory]
    [InlineData("https://did:plc:ewvi7nxzyoun6zhxrhs64oiz/pub.chive.eprint.submission/3jz", "at://")]
    [InlineData("at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/pub.chive.eprint.submission", "at://<did>/<collection>/<rkey>")]
    [InlineData("at://alice.test/pub.chive.eprint.submission/3jz", "authority")]
    [InlineData("at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/not-an-nsid/3jz", "collection")]
    [InlineData("at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/pub.chive.eprint.submission/..", "record key")]
    public void Invalid_AT_URIs_name_the_bad_part(string input, string reason)
    {
        var error = Assert.Throws<InvalidIdentifierException>(() => AtUri.Parse(input));
        Assert.Equal(IdentifierKind.AtUri, error.Kind);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }
}
