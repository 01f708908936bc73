namespace Microsoft.Extensions.Hosting;

/// <summary>What the services make of a setting an AppHost parameter hands over.</summary>
public static class AppHostParameter
{
    /// <summary>
    /// The value, with <c>none</c> (or nothing) read as not set: an empty parameter counts as missing in Aspire and the
    /// run would wait for it, so <c>none</c> is how the AppHost says "nothing". Null when unset.
    /// </summary>
    public static string? ValueOrNull(string? value) =>
        string.IsNullOrWhiteSpace(value) || value.Trim().Equals("none", StringComparison.OrdinalIgnoreCase) ? null : value;
}
