using System.Text;
using Spectre.Console;

namespace Chive.AdminCli;

/// <summary>
/// Text that came from the server — and through it from PDSes and records anyone writes (an operation's error can
/// quote them) — made safe for a terminal: control characters (escape sequences could move the cursor, rewrite the
/// screen or set the window title) become '?', and Spectre's markup brackets are escaped.
/// </summary>
public static class TerminalText
{
    public const int MaxLength = 2000;

    /// <summary>Clean text with Spectre's markup escaped, for <see cref="IAnsiConsole"/> output.</summary>
    public static string Safe(string? text) => Markup.Escape(Clean(text));

    /// <summary>Control characters replaced, at most <see cref="MaxLength"/> characters: for plain output (standard error).</summary>
    public static string Clean(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }

        var clean = new StringBuilder(Math.Min(text.Length, MaxLength));
        foreach (var c in text.Length > MaxLength ? text[..MaxLength] : text)
        {
            clean.Append(char.IsControl(c) || c is '\u2028' or '\u2029' or '\u200E' or '\u200F' or '\u061C' || (c >= '\u202A' && c <= '\u202E') || (c >= '\u2066' && c <= '\u2069') ? '?' : c);
        }

        if (text.Length > MaxLength)
        {
            clean.Append('…');
        }

        return clean.ToString();
    }
}
