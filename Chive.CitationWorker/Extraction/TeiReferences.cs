using System.Globalization;
using System.Text;
using System.Xml;
using System.Xml.Linq;

namespace Chive.CitationWorker.Extraction;

/// <summary>
/// Reads the reference list out of the TEI that GROBID writes (<c>/api/processReferences</c>, and the
/// <c>back/listBibl</c> of <c>/api/processFulltextDocument</c>).
/// </summary>
/// <remarks>
/// The TEI describes a PDF a stranger uploaded, so it is parsed as hostile input: no DTD (hence no entity expansion and
/// no external resolution), a bounded document, every string capped. The document is streamed one <c>biblStruct</c> at
/// a time, so a huge reference list costs the memory of one reference, and reading stops at the limit. Everything is
/// linear in the size of the input: no recursion, and nesting within a reference is bounded.
/// </remarks>
public static class TeiReferences
{
    public const string TeiNamespace = "http://www.tei-c.org/ns/1.0";

    private const long MaxDocumentCharacters = 20 * 1024 * 1024;
    private const int MaxTitle = 1000;
    private const int MaxRawText = 4000;
    private const int MaxVenue = 500;
    private const int MaxScope = 100;
    private const int MaxName = 200;
    private const int MaxAuthors = 50;
    private const int MaxNesting = 32; // element levels below a biblStruct; GROBID writes at most about five
    private const int MaxIdentifier = 1000; // longer than any DOI or arXiv id; the normalisers refuse what is left

    private static readonly XmlReaderSettings Settings = new()
    {
        DtdProcessing = DtdProcessing.Prohibit, // a DOCTYPE is an XmlException: no billion laughs, no external entities
        XmlResolver = null,
        MaxCharactersFromEntities = 1024, // only the predefined entities can occur without a DTD; belt and braces
        MaxCharactersInDocument = MaxDocumentCharacters,
        IgnoreComments = true,
        IgnoreProcessingInstructions = true,
        CloseInput = false, // the caller owns the stream
    };

    /// <summary>The references of the document in order, at most <paramref name="maxReferences"/> of them.</summary>
    /// <exception cref="TeiFormatException">The document is not well-formed XML, has a DTD, is too large, or is not TEI.</exception>
    public static IReadOnlyList<ExtractedReference> Parse(Stream tei, int maxReferences = 2000)
    {
        ArgumentNullException.ThrowIfNull(tei);
        ArgumentOutOfRangeException.ThrowIfNegative(maxReferences);

        try
        {
            return Read(tei, maxReferences);
        }
        catch (XmlException ex)
        {
            throw new TeiFormatException($"The reference service answered with malformed or refused XML: {ex.Message}", ex);
        }
    }

    private static List<ExtractedReference> Read(Stream tei, int maxReferences)
    {
        var references = new List<ExtractedReference>();
        using var reader = XmlReader.Create(tei, Settings);
        reader.MoveToContent();
        if (reader.NodeType != XmlNodeType.Element || !IsTei(reader, "TEI"))
        {
            throw new TeiFormatException($"The reference service answered with a '{Collapse(reader.Name, 100)}' document, not TEI.");
        }

        var openLists = 0;
        while (!reader.EOF && references.Count < maxReferences)
        {
            if (reader.NodeType == XmlNodeType.Element && IsTei(reader, "biblStruct"))
            {
                if (openLists == 0)
                {
                    // The paper's own description (teiHeader/sourceDesc in fulltext output), not something it cites.
                    reader.Skip();
                    continue;
                }

                // ReadBiblStruct leaves the reader on the node after the element, so no Read() here.
                if (ToReference(ReadBiblStruct(reader)) is { } reference)
                {
                    references.Add(reference);
                }

                continue;
            }

            if (reader.NodeType == XmlNodeType.Element && IsTei(reader, "listBibl") && !reader.IsEmptyElement)
            {
                openLists++;
            }
            else if (reader.NodeType == XmlNodeType.EndElement && IsTei(reader, "listBibl"))
            {
                openLists--;
            }

            reader.Read();
        }

        return references;
    }

    /// <summary>
    /// The biblStruct under the reader as a small tree of elements, their unqualified attributes and their text. Not
    /// <c>XNode.ReadFrom</c>: adding a node to a LINQ to XML tree walks up to its root, so a deeply nested element costs
    /// time quadratic in its depth (40,000 levels took seconds). GROBID nests a few levels; deeper is refused.
    /// </summary>
    private static XElement ReadBiblStruct(XmlReader reader)
    {
        var root = NewElement(reader);
        if (reader.IsEmptyElement)
        {
            reader.Read();
            return root;
        }

        var current = root;
        var depth = 0;
        while (reader.Read())
        {
            switch (reader.NodeType)
            {
                case XmlNodeType.Element:
                    var child = NewElement(reader);
                    current.Add(child);
                    if (!reader.IsEmptyElement)
                    {
                        if (++depth > MaxNesting)
                        {
                            throw new TeiFormatException($"A biblStruct nests elements more than {MaxNesting} levels deep.");
                        }

                        current = child;
                    }

                    break;
                case XmlNodeType.EndElement when depth == 0:
                    reader.Read();
                    return root;
                case XmlNodeType.EndElement:
                    depth--;
                    current = current.Parent!;
                    break;
                case XmlNodeType.Text or XmlNodeType.CDATA or XmlNodeType.Whitespace or XmlNodeType.SignificantWhitespace:
                    current.Add(new XText(reader.Value));
                    break;
                default:
                    break;
            }
        }

        throw new TeiFormatException("The document ends inside a biblStruct."); // the reader throws first; kept for the compiler's sake
    }

    private static XElement NewElement(XmlReader reader)
    {
        var element = new XElement(XName.Get(reader.LocalName, reader.NamespaceURI));
        while (reader.MoveToNextAttribute())
        {
            // Only unqualified attributes (type, level, unit, when, from, to) are read; xmlns and xml:id are not needed.
            if (reader.NamespaceURI.Length == 0)
            {
                element.Add(new XAttribute(reader.LocalName, reader.Value));
            }
        }

        reader.MoveToElement();
        return element;
    }

    private static ExtractedReference? ToReference(XElement biblStruct)
    {
        var analytic = Child(biblStruct, "analytic");
        var monogr = Child(biblStruct, "monogr");

        var analyticTitle = PickTitle(
            analytic,
            t => Attr(t, "level") == "a" && Attr(t, "type") == "main",
            t => Attr(t, "level") == "a",
            _ => true);
        string? title;
        string? venue;
        if (analyticTitle is not null)
        {
            title = Text(analyticTitle, MaxTitle);
            venue = MonogrVenue(monogr);
        }
        else
        {
            // No article title: a book (or a chapter GROBID could not name) is known by the monograph's title, and that
            // title is then not also its venue. A journal title alone is no title, but it still says where it appeared.
            var book = PickTitle(monogr, t => Attr(t, "level") is "m" or null && !IsAbbreviation(t));
            title = book is null ? null : Text(book, MaxTitle);
            venue = book is null ? MonogrVenue(monogr) : null;
        }

        var rawText = Descendants(biblStruct, "note").FirstOrDefault(n => Attr(n, "type") == "raw_reference") is { } note
            ? Text(note, MaxRawText)
            : null;
        var doi = FirstIdentifier(biblStruct, "DOI", CitationIdentifiers.NormalizeDoi);
        var arxivId = FirstIdentifier(biblStruct, "arXiv", CitationIdentifiers.NormalizeArxiv);
        if (title is null && rawText is null && doi is null && arxivId is null)
        {
            return null; // nothing to match or show it by
        }

        var authors = Authors(analytic);
        if (authors.Count == 0)
        {
            authors = Authors(monogr);
        }

        return new ExtractedReference(
            rawText,
            title,
            authors,
            Year(biblStruct),
            doi,
            arxivId,
            venue,
            Scope(biblStruct, "volume") is { } volume ? Text(volume, MaxScope) ?? Collapse(Attr(volume, "from"), MaxScope) : null,
            Pages(biblStruct));
    }

    /// <summary>The journal (full title before its abbreviation), else the proceedings or book, else the meeting's name.</summary>
    private static string? MonogrVenue(XElement? monogr)
    {
        var venue = PickTitle(
            monogr,
            t => Attr(t, "level") == "j" && !IsAbbreviation(t),
            t => Attr(t, "level") == "j",
            t => Attr(t, "level") == "m" && !IsAbbreviation(t),
            t => Attr(t, "level") == "m",
            t => !IsAbbreviation(t));
        if (venue is not null)
        {
            return Text(venue, MaxVenue);
        }

        // GROBID often writes only the place into <meeting><address>…; a city is not a venue.
        return monogr is not null && Child(monogr, "meeting") is { } meeting ? Text(meeting, MaxVenue, skip: "address") : null;
    }

    /// <summary>The first non-empty direct title child that the earliest preference accepts; null when none accepts one.</summary>
    private static XElement? PickTitle(XElement? parent, params Func<XElement, bool>[] preferences)
    {
        if (parent is null)
        {
            return null;
        }

        var titles = Children(parent, "title").Where(t => Text(t, 1) is not null).ToList();
        foreach (var preferred in preferences)
        {
            if (titles.FirstOrDefault(preferred) is { } title)
            {
                return title;
            }
        }

        return null;
    }

    private static bool IsAbbreviation(XElement title) => Attr(title, "type") == "abbrev";

    private static List<CitedAuthor> Authors(XElement? parent)
    {
        var authors = new List<CitedAuthor>();
        if (parent is null)
        {
            return authors;
        }

        foreach (var author in Children(parent, "author"))
        {
            if (Child(author, "persName") is not { } name || Child(name, "surname") is not { } surnameElement
                || Text(surnameElement, MaxName) is not { } surname)
            {
                continue; // an author without a surname (an affiliation block, a collective name) names nobody
            }

            var forenames = string.Join(' ', Children(name, "forename").Select(f => Text(f, MaxName)).OfType<string>());
            authors.Add(new CitedAuthor(Collapse(forenames, MaxName), surname));
            if (authors.Count == MaxAuthors)
            {
                break;
            }
        }

        return authors;
    }

    /// <summary>The published date first, then any other; its <c>when</c> attribute, else a year in its text.</summary>
    private static int? Year(XElement biblStruct)
    {
        foreach (var date in Descendants(biblStruct, "date").OrderBy(d => Attr(d, "type") == "published" ? 0 : 1))
        {
            if (YearIn(Collapse(Attr(date, "when"), MaxScope), atStartOnly: true) is { } fromWhen)
            {
                return fromWhen;
            }

            if (YearIn(Text(date, MaxScope), atStartOnly: false) is { } fromText)
            {
                return fromText;
            }
        }

        return null;
    }

    /// <summary>The first run of exactly four ASCII digits between 1000 and 2100 (the first run only, for <c>when</c>).</summary>
    private static int? YearIn(string? text, bool atStartOnly)
    {
        if (text is null)
        {
            return null;
        }

        var i = 0;
        while (i < text.Length)
        {
            if (!char.IsAsciiDigit(text[i]))
            {
                if (atStartOnly)
                {
                    return null;
                }

                i++;
                continue;
            }

            var start = i;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                i++;
            }

            if (i - start == 4 && int.Parse(text.AsSpan(start, 4), NumberStyles.None, CultureInfo.InvariantCulture) is var year and >= 1000 and <= 2100)
            {
                return year;
            }

            if (atStartOnly)
            {
                return null;
            }
        }

        return null;
    }

    private static string? Pages(XElement biblStruct)
    {
        if (Scope(biblStruct, "page") is not { } page)
        {
            return null;
        }

        var from = Collapse(Attr(page, "from"), MaxScope);
        var to = Collapse(Attr(page, "to"), MaxScope);
        return from is null ? Text(page, MaxScope)
            : to is null ? from
            : Collapse($"{from}-{to}", MaxScope);
    }

    /// <summary>GROBID writes <c>unit</c>; older TEI writes <c>type</c>.</summary>
    private static XElement? Scope(XElement biblStruct, string unit) =>
        Descendants(biblStruct, "biblScope").FirstOrDefault(s =>
            string.Equals(Attr(s, "unit") ?? Attr(s, "type"), unit, StringComparison.OrdinalIgnoreCase));

    private static string? FirstIdentifier(XElement biblStruct, string type, Func<string?, string?> normalize) =>
        Descendants(biblStruct, "idno")
            .Where(i => string.Equals(Attr(i, "type"), type, StringComparison.OrdinalIgnoreCase))
            .Select(i => normalize(Text(i, MaxIdentifier)))
            .FirstOrDefault(id => id is not null);

    private static bool IsTei(XmlReader reader, string localName) =>
        reader.LocalName == localName && reader.NamespaceURI is TeiNamespace or "";

    private static bool IsTei(XElement element, string localName) =>
        element.Name.LocalName == localName && element.Name.NamespaceName is TeiNamespace or "";

    private static XElement? Child(XElement parent, string localName) => Children(parent, localName).FirstOrDefault();

    private static IEnumerable<XElement> Children(XElement parent, string localName) =>
        parent.Elements().Where(e => IsTei(e, localName));

    private static IEnumerable<XElement> Descendants(XElement parent, string localName) =>
        parent.Descendants().Where(e => IsTei(e, localName));

    /// <summary>An attribute without namespace, whitespace-collapsed; null when missing or blank.</summary>
    private static string? Attr(XElement element, string name) => Collapse(element.Attribute(name)?.Value, MaxIdentifier);

    /// <summary>
    /// The element's text with whitespace collapsed, at most <paramref name="max"/> characters, null when blank. It walks
    /// the text nodes itself and stops at the cap, so a huge element costs no more than its cap. Text inside a <paramref name="skip"/> element is left out.
    /// </summary>
    private static string? Text(XElement element, int max, string? skip = null)
    {
        var text = new StringBuilder();
        var pendingSpace = false;
        foreach (var node in element.DescendantNodes().OfType<XText>())
        {
            if (skip is not null && node.Ancestors().TakeWhile(a => a != element).Any(a => IsTei(a, skip)))
            {
                pendingSpace = text.Length > 0;
                continue;
            }

            if (Append(text, node.Value, max, ref pendingSpace))
            {
                break;
            }
        }

        return Finish(text, max);
    }

    private static string? Collapse(string? value, int max)
    {
        if (value is null)
        {
            return null;
        }

        var text = new StringBuilder();
        var pendingSpace = false;
        Append(text, value, max, ref pendingSpace);
        return Finish(text, max);
    }

    /// <summary>Appends <paramref name="value"/> with runs of whitespace as one space; true once the cap is reached.</summary>
    private static bool Append(StringBuilder text, string value, int max, ref bool pendingSpace)
    {
        foreach (var c in value)
        {
            if (char.IsWhiteSpace(c))
            {
                pendingSpace = text.Length > 0;
                continue;
            }

            if (pendingSpace)
            {
                text.Append(' ');
                pendingSpace = false;
            }

            text.Append(c);
            if (text.Length >= max)
            {
                return true;
            }
        }

        return false;
    }

    private static string? Finish(StringBuilder text, int max)
    {
        text.Length = Math.Min(text.Length, max); // the space before the last character can take it one past the cap
        // A cap can fall between the halves of a surrogate pair; half a character is not text.
        if (text.Length > 0 && char.IsHighSurrogate(text[^1]))
        {
            text.Length--;
        }

        while (text.Length > 0 && text[^1] == ' ')
        {
            text.Length--;
        }

        return text.Length == 0 ? null : text.ToString();
    }
}
