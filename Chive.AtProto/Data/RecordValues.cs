using System.Text;
using System.Text.Json;

namespace Chive.AtProto.Data;

/// <summary>
/// Whether a record's JSON, as a PDS served it, can be stored and read as a record at all — checked once, before anything
/// else touches it, so that one hostile record is one rejected record and never a failed batch. What the AT Protocol
/// data model cannot hold (duplicate keys, a NUL character, an unpaired surrogate) and what PostgreSQL's <c>jsonb</c>
/// would refuse (the same, absurd numbers, extreme depth) each get a reason.
/// </summary>
public static class RecordValues
{
    /// <summary>Deepest nesting accepted: far beyond any lexicon, far below what would strain a parser's stack.</summary>
    public const int MaxDepth = 64;

    /// <summary>Why <paramref name="json"/> cannot be a stored record, or null when it can.</summary>
    public static string? Problem(string json) => Problem(Encoding.UTF8.GetBytes(json));

    /// <summary>Why the UTF-8 <paramref name="json"/> cannot be a stored record, or null when it can.</summary>
    public static string? Problem(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = MaxDepth });
        var keys = new Stack<HashSet<string>>();
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return "not a JSON object";
            }

            keys.Push(new HashSet<string>(StringComparer.Ordinal));
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                        keys.Push(new HashSet<string>(StringComparer.Ordinal));
                        break;
                    case JsonTokenType.EndObject:
                        keys.Pop();
                        break;
                    case JsonTokenType.PropertyName:
                        if (Text(ref reader, out var name) is { } unreadableName)
                        {
                            return $"a key {unreadableName}";
                        }

                        if (TextProblem(name!) is { } nameProblem)
                        {
                            return $"a key {nameProblem}";
                        }

                        if (!keys.Peek().Add(name!))
                        {
                            return $"duplicate key '{Shown(name!)}'";
                        }

                        break;
                    case JsonTokenType.String:
                        if (!reader.ValueIsEscaped && !reader.HasValueSequence)
                        {
                            // Valid UTF-8 without escapes holds no NUL (the reader refuses raw control characters) and no
                            // surrogate: nothing to decode. Most strings of a record are such.
                            if (!System.Text.Unicode.Utf8.IsValid(reader.ValueSpan))
                            {
                                return "a string is not UTF-8";
                            }

                            break;
                        }

                        if (Text(ref reader, out var text) is { } unreadable)
                        {
                            return $"a string {unreadable}";
                        }

                        if (TextProblem(text!) is { } textProblem)
                        {
                            return $"a string {textProblem}";
                        }

                        break;
                    case JsonTokenType.Number:
                        if (!reader.TryGetDouble(out var number) || !double.IsFinite(number) || Math.Abs(number) > 1e300)
                        {
                            return "a number out of range";
                        }

                        break;
                }
            }
        }
        catch (JsonException ex) when (reader.CurrentDepth >= MaxDepth - 1)
        {
            return $"nested deeper than {MaxDepth} levels ({ex.GetType().Name})";
        }
        catch (JsonException ex)
        {
            return $"not valid JSON or not UTF-8 (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1})";
        }

        return null;
    }

    /// <summary>The token's text, or why it cannot be read: bytes that are not UTF-8, or escapes that make no valid UTF-16.</summary>
    private static string? Text(ref Utf8JsonReader reader, out string? text)
    {
        text = null;
        if (!reader.HasValueSequence && !System.Text.Unicode.Utf8.IsValid(reader.ValueSpan))
        {
            return "is not UTF-8";
        }

        try
        {
            text = reader.GetString();
            return null;
        }
        catch (InvalidOperationException)
        {
            return "contains an unpaired surrogate"; // GetString refuses an escape like a lone \ud800
        }
    }

    private static string? TextProblem(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\0')
            {
                return "contains a NUL character";
            }

            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                return "contains an unpaired surrogate";
            }
        }

        return null;
    }

    private static string Shown(string name) => name.Length <= 40 ? name : name[..40] + "…";
}
