using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Chive.AdminApi.Auth;

/// <summary>Who called an admin method, or why they may not.</summary>
public abstract record AdminAuthResult
{
    public sealed record Admin(string Label) : AdminAuthResult;

    /// <summary>No credentials at all: 401 AuthenticationRequired.</summary>
    public sealed record Anonymous(string Reason) : AdminAuthResult;

    /// <summary>Credentials that are not an admin's: 403 Forbidden.</summary>
    public sealed record Refused(string Reason) : AdminAuthResult;
}

/// <summary>
/// Decides whether a request comes from an admin. One implementation today (operator API keys); signed atproto
/// service-auth tokens arrive later behind the same interface.
/// </summary>
public interface IAdminAuthenticator
{
    AdminAuthResult Authenticate(HttpRequest request, string nsid);
}

/// <summary>One operator key: a label (recorded as <c>startedBy</c>) and the SHA-256 of the key, hex.</summary>
public sealed class ApiKeyOptions
{
    [Required]
    public string Label { get; set; } = "";

    [Required]
    [RegularExpression("^[0-9a-fA-F]{64}$", ErrorMessage = "Sha256 must be the 64 hex digits of the key's SHA-256")]
    public string Sha256 { get; set; } = "";
}

/// <summary>Settings under <c>Admin</c>.</summary>
public sealed class AdminOptions
{
    public const string SectionName = "Admin";

    /// <summary>Operator keys (<c>Admin:ApiKeys:0:Label</c>, <c>Admin:ApiKeys:0:Sha256</c>); none = every call is refused.</summary>
    public List<ApiKeyOptions> ApiKeys { get; set; } = [];
}

/// <summary>
/// <c>Authorization: Bearer &lt;key&gt;</c> checked against <see cref="AdminOptions.ApiKeys"/>. Only hashes are configured;
/// the presented key is hashed and compared in constant time with every configured hash. The development key
/// (<see cref="DevelopmentKey"/>, printed in the README) is refused outside the Development environment, whatever the
/// configuration says: a copied development configuration must not open production.
/// </summary>
public sealed class ApiKeyAuthenticator(IOptionsMonitor<AdminOptions> options, IHostEnvironment environment) : IAdminAuthenticator
{
    /// <summary>The operator key of <c>appsettings.Development.json</c>.</summary>
    public const string DevelopmentKey = "dev-operator-key";

    private static readonly byte[] DevelopmentKeyHash = SHA256.HashData(Encoding.UTF8.GetBytes(DevelopmentKey));

    public AdminAuthResult Authenticate(HttpRequest request, string nsid)
    {
        var header = request.Headers.Authorization.ToString();
        if (string.IsNullOrWhiteSpace(header))
        {
            return new AdminAuthResult.Anonymous("this method needs an admin's credentials (Authorization: Bearer <key>)");
        }

        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header.Length <= 7)
        {
            return new AdminAuthResult.Anonymous("the Authorization header is not 'Bearer <key>'");
        }

        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(header[7..].Trim()));
        if (!environment.IsDevelopment() && CryptographicOperations.FixedTimeEquals(presented, DevelopmentKeyHash))
        {
            return new AdminAuthResult.Refused("the development operator key is refused outside the Development environment");
        }

        string? label = null;
        foreach (var key in options.CurrentValue.ApiKeys)
        {
            if (CryptographicOperations.FixedTimeEquals(presented, Convert.FromHexString(key.Sha256)) && label is null)
            {
                label = key.Label;
            }
        }

        return label is null ? new AdminAuthResult.Refused("the key is not an admin key") : new AdminAuthResult.Admin(label);
    }

    /// <summary>The value to configure for a key: <c>Admin:ApiKeys:N:Sha256</c>.</summary>
    public static string Hash(string key) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key))).ToLowerInvariant();
}
