using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace Chive.Tests.AdminCli;

/// <summary>
/// What a terminal shows of the bytes it received, as HTML for a screenshot: SGR colours (the 16 standard ones and the
/// 256-colour palette's first 16, which is what Spectre.Console uses here) and bold; every other control sequence (cursor
/// moves, show/hide cursor) is dropped. One frame of a live display is cut out by <see cref="Frames"/>.
/// </summary>
public static partial class TerminalRendering
{
    private static readonly string[] Palette =
    [
        "#1e1e1e", "#cd3131", "#0dbc79", "#e5e510", "#2472c8", "#bc3fbc", "#11a8cd", "#e5e5e5",
        "#666666", "#f14c4c", "#23d18b", "#f5f543", "#3b8eea", "#d670d6", "#29b8db", "#ffffff",
    ];

    /// <summary>The frames of a live display that redraws itself by moving the cursor up (each redraw's text, in order).</summary>
    public static IReadOnlyList<string> Frames(string output) =>
        CursorUp().Split(output).Select(f => f.Replace("\r", "", StringComparison.Ordinal)).Where(f => f.Trim().Length > 0).ToList();

    public static string ToHtml(IEnumerable<string> lines)
    {
        var html = new StringBuilder("<!doctype html><meta charset=utf-8><body style=\"margin:0;background:#1e1e1e\">"
            + "<pre style=\"display:inline-block;margin:0;padding:14px 18px;color:#e5e5e5;background:#1e1e1e;font:14px/1.35 'DejaVu Sans Mono',monospace\">");
        foreach (var line in lines)
        {
            string? colour = null;
            var bold = false;
            var open = false;
            var at = 0;
            foreach (Match sgr in Sequence().Matches(line))
            {
                html.Append(WebUtility.HtmlEncode(line[at..sgr.Index].Replace("\u001b", "", StringComparison.Ordinal)));
                at = sgr.Index + sgr.Length;
                if (sgr.Groups["final"].Value != "m")
                {
                    continue;
                }

                var codes = sgr.Groups["params"].Value.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
                for (var i = 0; i < Math.Max(1, codes.Length); i++)
                {
                    var code = codes.Length == 0 ? 0 : codes[i];
                    switch (code)
                    {
                        case 0: colour = null; bold = false; break;
                        case 1: bold = true; break;
                        case >= 30 and <= 37: colour = Palette[code - 30]; break;
                        case >= 90 and <= 97: colour = Palette[code - 90 + 8]; break;
                        case 39: colour = null; break;
                        case 38 when i + 2 < codes.Length && codes[i + 1] == 5:
                            colour = codes[i + 2] < 16 ? Palette[codes[i + 2]] : null;
                            i += 2;
                            break;
                    }
                }

                if (open)
                {
                    html.Append("</span>");
                }

                html.Append($"<span style=\"color:{colour ?? "#e5e5e5"};font-weight:{(bold ? 700 : 400)}\">");
                open = true;
            }

            html.Append(WebUtility.HtmlEncode(line[at..].Replace("\u001b", "", StringComparison.Ordinal)));
            if (open)
            {
                html.Append("</span>");
            }

            html.Append('\n');
        }

        return html.Append("</pre></body>").ToString();
    }

    [GeneratedRegex(@"\u001b\[\d*A")]
    private static partial Regex CursorUp();

    [GeneratedRegex(@"\u001b\[(?<params>[0-9;?]*)(?<final>[A-Za-z])|\u001b[=>]")]
    private static partial Regex Sequence();
}
