using System.Text.Json;
using System.Text.Json.Nodes;

namespace Chive.AdminApi.OperationTypes;

/// <summary>Reading a trigger's optional fields by their JSON kind: a field of another kind is a refusal, not a cast.</summary>
internal static class InputFields
{
    /// <summary>Absent (or null) → <see cref="Field{T}.Absent"/>; a string → its value; anything else → invalid.</summary>
    public static Field<string> String(JsonObject input, string name) => input[name] switch
    {
        null => Field<string>.Absent,
        var node when node.GetValueKind() == JsonValueKind.String => Field<string>.Of(node.GetValue<string>()),
        _ => Field<string>.Invalid,
    };

    /// <summary>Absent (or null) → absent; true or false → its value; anything else → invalid.</summary>
    public static Field<bool> Boolean(JsonObject input, string name) => input[name] switch
    {
        null => Field<bool>.Absent,
        var node when node.GetValueKind() is JsonValueKind.True or JsonValueKind.False => Field<bool>.Of(node.GetValue<bool>()),
        _ => Field<bool>.Invalid,
    };

    /// <summary>Absent (or null) → absent; an integral number that fits an int → its value; anything else → invalid.</summary>
    public static Field<int> Integer(JsonObject input, string name) => input[name] switch
    {
        null => Field<int>.Absent,
        var node when node.GetValueKind() == JsonValueKind.Number && node.AsValue().TryGetValue<int>(out var n) => Field<int>.Of(n),
        _ => Field<int>.Invalid,
    };
}

/// <summary>An optional input field: absent, present with a value, or present with the wrong JSON kind.</summary>
internal readonly record struct Field<T>(bool IsPresent, bool IsValid, T? Value)
{
    public static Field<T> Absent => new(false, true, default);

    public static Field<T> Invalid => new(true, false, default);

    public static Field<T> Of(T value) => new(true, true, value);
}
