using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Chive.CitationWorker.Extraction;

/// <summary>
/// The keys references are compared by: a DOI, an arXiv id and a title key. The same functions normalise both sides of a
/// comparison (an extracted reference and our own eprint), so they must stay deterministic and culture-invariant.
/// </summary>
public static partial class CitationIdentifiers
{
    private const int MaxDoiLength = 300;

    private static readonly string[] DoiPrefixes =
        ["https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi:"];

    private static readonly string[] ArxivPrefixes = ["arXiv:", "https://arxiv.org/abs/", "http://arxiv.org/abs/"];

    /// <summary>
    /// The DOI in lower case (DOIs are case-insensitive) without a resolver or <c>doi:</c> prefix, or null when the value
    /// is not a DOI.
    /// </summary>
    public static string? NormalizeDoi(string? value)
    {
        if (value is null)
        {
            return null;
        }

        var doi = StripPrefix(value.Trim(), DoiPrefixes).Trim(); // "doi: 10.1000/x" is common in reference lists
        if (doi.Length > MaxDoiLength)
        {
            return null;
        }

        doi = doi.ToLowerInvariant();
        return DoiPattern().IsMatch(doi) ? doi : null;
    }

    /// <summary>
    /// The arXiv id without prefix or version (<c>2101.00001</c>, <c>hep-th/9901001</c>, <c>math.GT/0309136</c>), or null
    /// when the value is not one. An old-style archive is lower case and its subject class upper case, as arXiv writes them.
    /// </summary>
    public static string? NormalizeArxiv(string? value)
    {
        if (value is null)
        {
            return null;
        }

        var id = StripPrefix(value.Trim(), ArxivPrefixes).Trim();
        id = StripVersion(id);
        if (NewStyleArxiv().IsMatch(id))
        {
            return id;
        }

        var old = OldStyleArxiv().Match(id);
        if (!old.Success)
        {
            return null;
        }

        var subjectClass = old.Groups["class"];
        return old.Groups["archive"].Value.ToLowerInvariant()
            + (subjectClass.Success ? "." + subjectClass.Value.ToUpperInvariant() : "")
            + "/" + old.Groups["number"].Value;
    }

    /// <summary>
    /// The title key: lower case ASCII letters and digits separated by single spaces. Accents are dropped (Unicode
    /// compatibility decomposition, then the combining marks), a few Latin letters that do not decompose are spelt out
    /// (ß → ss, æ → ae, ø → o, ł → l …), and every other character becomes a space. A title in a non-Latin script has
    /// an empty or very short key, so a caller matching by title needs a minimum key length.
    /// </summary>
    public static string NormalizeTitle(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "";
        }

        // string.Normalize throws on a lone surrogate, and an eprint title from a stranger's record may hold one.
        var decomposed = WithoutLoneSurrogates(value).Normalize(NormalizationForm.FormKD);
        var key = new StringBuilder(decomposed.Length);
        var pendingSpace = false;
        foreach (var raw in decomposed)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(raw) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark
                or UnicodeCategory.EnclosingMark)
            {
                continue; // "é" decomposed is "e" + U+0301; the mark goes, the letter stays joined to its word
            }

            var c = char.ToLowerInvariant(raw);
            var kept = c is (>= 'a' and <= 'z') or (>= '0' and <= '9') ? c.ToString() : Spelt(c);
            if (kept is null)
            {
                pendingSpace = key.Length > 0;
                continue;
            }

            if (pendingSpace)
            {
                key.Append(' ');
                pendingSpace = false;
            }

            key.Append(kept);
        }

        return key.ToString();
    }

    private static string? Spelt(char c) => c switch
    {
        'ß' => "ss",
        'æ' => "ae",
        'œ' => "oe",
        'ø' => "o",
        'ł' => "l",
        'đ' or 'ð' => "d",
        'þ' => "th",
        'ı' => "i",
        'ħ' => "h",
        'ŧ' => "t",
        _ => null,
    };

    private static string StripPrefix(string value, string[] prefixes)
    {
        foreach (var prefix in prefixes)
        {
            if (value.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return value[prefix.Length..];
            }
        }

        return value;
    }

    /// <summary>"1706.03762v5" → "1706.03762"; a trailing "v" without digits is left for the pattern to refuse.</summary>
    private static string StripVersion(string id)
    {
        var end = id.Length;
        while (end > 0 && char.IsAsciiDigit(id[end - 1]))
        {
            end--;
        }

        return end < id.Length && end > 0 && id[end - 1] is 'v' or 'V' ? id[..(end - 1)] : id;
    }

    private static string WithoutLoneSurrogates(string value)
    {
        StringBuilder? copy = null;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            var paired = char.IsHighSurrogate(c) ? i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])
                : !char.IsLowSurrogate(c) || (i > 0 && char.IsHighSurrogate(value[i - 1]));
            if (!paired)
            {
                copy ??= new StringBuilder(value, 0, i, value.Length);
                copy.Append(' ');
            }
            else
            {
                copy?.Append(c);
            }
        }

        return copy?.ToString() ?? value;
    }

    // [^\s\p{Cc}]: no whitespace and no control characters anywhere in the suffix; \z, because $ accepts a final newline.
    [GeneratedRegex(@"^10\.[0-9]{4,9}/[^\s\p{Cc}]+\z", RegexOptions.CultureInvariant)]
    private static partial Regex DoiPattern();

    [GeneratedRegex(@"^[0-9]{4}\.[0-9]{4,5}\z", RegexOptions.CultureInvariant)]
    private static partial Regex NewStyleArxiv();

    [GeneratedRegex(@"^(?<archive>[A-Za-z-]+)(\.(?<class>[A-Za-z]{2}))?/(?<number>[0-9]{7})\z", RegexOptions.CultureInvariant)]
    private static partial Regex OldStyleArxiv();
}
