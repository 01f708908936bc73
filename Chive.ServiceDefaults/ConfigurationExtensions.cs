using Microsoft.Extensions.Configuration;

namespace Microsoft.Extensions.Hosting;

public static class ConfigurationExtensions
{
    /// <summary>
    /// Reads <c>ConnectionStrings:<paramref name="name"/></c> or fails start-up with a message that names the key,
    /// so a missing setting is found at deploy time, not at the first message.
    /// </summary>
    public static string GetRequiredConnectionString(this IConfiguration configuration, string name)
    {
        var value = configuration.GetConnectionString(name);
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new InvalidOperationException(
                $"Missing required connection string 'ConnectionStrings:{name}' " +
                $"(environment variable ConnectionStrings__{name}). The AppHost provides it; set it when running the service on its own.");
        }

        return value;
    }
}
