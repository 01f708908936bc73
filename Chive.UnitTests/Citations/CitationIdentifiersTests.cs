using System.Globalization;
using Chive.CitationWorker.Extraction;

namespace Chive.UnitTests.Citations;

/// <summary>The keys references are matched by: DOIs, arXiv ids and title keys, as GROBID and authors write them.</summary>
public sealed class CitationIdentifiersTests
{
    [Theory]
    [InlineData("10.1093/eurheartj/ehi890", "10.1093/eurheartj/ehi890")]
    [InlineData("  10.1186/2040-7378-6-9  ", "10.1186/2040-7378-6-9")]
    [InlineData("10.1016/S0140-6736(11)60325-5", "10.1016/s0140-6736(11)60325-5")]
    [InlineData("https://doi.org/10.5555/ABC.def", "10.5555/abc.def")]
    [InlineData("http://doi.org/10.5555/x", "10.5555/x")]
    [InlineData("https://dx.doi.org/10.5555/x", "10.5555/x")]
    [InlineData("http://dx.doi.org/10.5555/x", "10.5555/x")]
    [InlineData("HTTPS://DOI.ORG/10.5555/X", "10.5555/x")]
    [InlineData("doi:10.5555/x", "10.5555/x")]
    [InlineData("DOI: 10.5555/x", "10.5555/x")]
    [InlineData("10.123456789/x", "10.123456789/x")]
    public void A_DOI_loses_its_prefix_and_case(string value, string expected)
    {
        Assert.Equal(expected, CitationIdentifiers.NormalizeDoi(value));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("10.123/x")] // registrant code of three digits
    [InlineData("10.1234567890/x")] // ten digits
    [InlineData("10.1234/")] // no suffix
    [InlineData("10.1234")]
    [InlineData("10.1234/a b")]
    [InlineData("10.1234/a\tb")]
    [InlineData("10.1234/a\nb")]
    [InlineData("10.1234/a\u0000b")]
    [InlineData("11.1234/x")]
    [InlineData("10.12a4/x")]
    [InlineData("https://example.org/10.1234/x")]
    [InlineData("doi.org/10.1234/x")] // a resolver without its scheme is not one of the known prefixes
    [InlineData("https://doi.org/https://doi.org/10.1234/x")] // one prefix only
    public void Anything_else_is_not_a_DOI(string? value)
    {
        Assert.Null(CitationIdentifiers.NormalizeDoi(value));
    }

    [Fact]
    public void A_DOI_longer_than_300_characters_is_refused()
    {
        var suffix300 = new string('a', 300 - "10.1234/".Length);

        Assert.NotNull(CitationIdentifiers.NormalizeDoi("10.1234/" + suffix300));
        Assert.Null(CitationIdentifiers.NormalizeDoi("10.1234/" + suffix300 + "a"));
    }

    [Theory]
    [InlineData("1706.03762", "1706.03762")]
    [InlineData("arXiv:1706.03762", "1706.03762")]
    [InlineData("ARXIV:1706.03762v5", "1706.03762")]
    [InlineData("arxiv: 2101.00001", "2101.00001")]
    [InlineData("https://arxiv.org/abs/2101.00001v2", "2101.00001")]
    [InlineData("HTTPS://ARXIV.ORG/ABS/0704.0001", "0704.0001")]
    [InlineData(" 0704.0001v12 ", "0704.0001")]
    [InlineData("hep-th/9901001", "hep-th/9901001")]
    [InlineData("arXiv:Hep-TH/9901001v2", "hep-th/9901001")]
    [InlineData("math.GT/0309136", "math.GT/0309136")]
    [InlineData("arXiv:MATH.gt/0309136v1", "math.GT/0309136")]
    public void An_arXiv_id_loses_its_prefix_and_version(string value, string expected)
    {
        Assert.Equal(expected, CitationIdentifiers.NormalizeArxiv(value));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not an id")]
    [InlineData("1706.03762v")] // a version marker without a number
    [InlineData("1706.123")]
    [InlineData("1706.123456")]
    [InlineData("17060.3762")]
    [InlineData("hep-th/990100")]
    [InlineData("hep-th/99010011")]
    [InlineData("math.GTX/0309136")]
    [InlineData("hep th/9901001")]
    [InlineData("10.48550/arXiv.1706.03762")] // arXiv's DOI is a DOI, not an arXiv id
    public void Anything_else_is_not_an_arXiv_id(string? value)
    {
        Assert.Null(CitationIdentifiers.NormalizeArxiv(value));
    }

    [Theory]
    [InlineData("Évolution des Systèmes Côtiers", "evolution des systemes cotiers")]
    [InlineData("Self-illuminating quantum dot: conjugates!", "self illuminating quantum dot conjugates")]
    [InlineData("  Tidal \t mixing\n\nin   estuaries  ", "tidal mixing in estuaries")]
    [InlineData("Through the patient's eyes", "through the patient s eyes")]
    [InlineData("COVID-19 in 2020", "covid 19 in 2020")]
    [InlineData("The ﬁnite element method", "the finite element method")] // a ligature decomposes
    [InlineData("H₂O and E=mc²", "h2o and e mc2")]
    [InlineData("Straße, Ærø and Łódź", "strasse aero and lodz")]
    [InlineData("Ökologie der Bäche", "okologie der bache")]
    [InlineData("Ελληνικά 42", "42")] // no Latin letters: only the digits remain
    [InlineData("...", "")]
    [InlineData("", "")]
    [InlineData(null, "")]
    public void A_title_key_is_lower_case_ASCII_words(string? title, string expected)
    {
        Assert.Equal(expected, CitationIdentifiers.NormalizeTitle(title));
    }

    [Fact]
    public void A_title_key_does_not_depend_on_the_current_culture()
    {
        var before = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = new CultureInfo("tr-TR"); // where "I".ToLower() is a dotless ı
            Assert.Equal("identity in islands", CitationIdentifiers.NormalizeTitle("IDENTITY IN ISLANDS"));
        }
        finally
        {
            CultureInfo.CurrentCulture = before;
        }
    }

    [Fact]
    public void A_title_with_a_lone_surrogate_still_gives_a_key()
    {
        Assert.Equal("broken title", CitationIdentifiers.NormalizeTitle("broken\uD800title"));
        Assert.Equal("broken title", CitationIdentifiers.NormalizeTitle("broken title\uDC00"));
    }
}
