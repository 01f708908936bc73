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

    /// <summary>A service-auth token that cannot be accepted (malformed, expired, not signed by its issuer…): 401 InvalidToken.</summary>
    public sealed record InvalidToken(string Reason) : AdminAuthResult;
}

/// <summary>
/// Decides whether a request comes from an admin: an operator key (<see cref="ApiKeyAuthenticator"/>) or an AT Protocol
/// service-auth token of an administrator DID (<see cref="ServiceAuthAuthenticator"/>); <see cref="AdminAuthenticator"/>
/// tells them apart.
/// </summary>
public interface IAdminAuthenticator
{
    ValueTask<AdminAuthResult> AuthenticateAsync(HttpRequest request, string nsid, CancellationToken cancellationToken);
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

    /// <summary>This service's DID: the <c>aud</c> a service-auth token must name. Unset: no token is accepted.</summary>
    public string? ServiceDid { get; set; }

    /// <summary>The DIDs whose service-auth tokens are an administrator's (read on every call: a change applies at once).</summary>
    public List<string> AdminDids { get; set; } = [];

    /// <summary>
    /// Operator keys in one setting, <c>label=sha256;label=sha256</c> — the form the AppHost parameter
    /// <c>operator-keys</c> hands over — added to <see cref="ApiKeys"/>.
    /// </summary>
    public string? OperatorKeys { get; set; }

    /// <summary>Administrator DIDs in one setting, separated by commas or spaces (the AppHost parameter <c>admin-dids</c>), added to <see cref="AdminDids"/>.</summary>
    public string? AdminDidList { get; set; }

    /// <summary>
    /// Adds the entries of <see cref="OperatorKeys"/> and <see cref="AdminDidList"/> to the lists (a malformed key fails
    /// validation); <c>none</c> is none (an AppHost parameter cannot be empty).
    /// </summary>
    public void MergeLists()
    {
        foreach (var entry in (AppHostParameter.ValueOrNull(OperatorKeys) ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = entry.IndexOf('=', StringComparison.Ordinal);
            ApiKeys.Add(equals > 0
                ? new ApiKeyOptions { Label = entry[..equals].Trim(), Sha256 = entry[(equals + 1)..].Trim() }
                : new ApiKeyOptions { Label = "", Sha256 = entry });
        }

        AdminDids.AddRange((AppHostParameter.ValueOrNull(AdminDidList) ?? "").Split([',', ' ', ';', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(d => !AdminDids.Contains(d, StringComparer.Ordinal)));
    }

    /// <summary>
    /// A JSON file of settings (e.g. <c>{"Admin": {"AdminDids": ["did:plc:…"]}}</c>) watched for changes, so the list of
    /// administrators can change without a restart where configuration comes from the environment.
    /// </summary>
    public string? DidsFile { get; set; }

    /// <summary>How far the issuer's clock may be off ours (default 30 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest a token may live from <c>iat</c> to <c>exp</c> (default 1 h, the reference PDS's maximum).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan MaxTokenLifetime { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>
/// <c>Authorization: Bearer &lt;key&gt;</c> checked against <see cref="AdminOptions.ApiKeys"/>. Only hashes are configured;
/// the presented key is hashed and compared in constant time with every configured hash. The development key
/// (<see cref="DevelopmentKey"/>, printed in the README) is refused outside the Development environment, whatever the
/// configuration says: a copied development configuration must not open production.
/// </summary>
public sealed class ApiKeyAuthenticator(IOptionsMonitor<AdminOptions> options, IHostEnvironment environment)
{
    /// <summary>The operator key of <c>appsettings.Development.json</c>.</summary>
    public const string DevelopmentKey = "dev-operator-key";

    private static readonly byte[] DevelopmentKeyHash = SHA256.HashData(Encoding.UTF8.GetBytes(DevelopmentKey));

    /// <summary>The operator whose key <paramref name="key"/> is, or why not.</summary>
    public AdminAuthResult Authenticate(string key)
    {
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(key));
        if (!environment.IsDevelopment() && CryptographicOperations.FixedTimeEquals(presented, DevelopmentKeyHash))
        {
            return new AdminAuthResult.Refused("the development operator key is refused outside the Development environment");
        }

        string? label = null;
        foreach (var configured in options.CurrentValue.ApiKeys)
        {
            if (CryptographicOperations.FixedTimeEquals(presented, Convert.FromHexString(configured.Sha256)) && label is null)
            {
                label = configured.Label;
            }
        }

        return label is null ? new AdminAuthResult.Refused("the key is not an admin key") : new AdminAuthResult.Admin(label);
    }

    /// <summary>The value to configure for a key: <c>Admin:ApiKeys:N:Sha256</c>.</summary>
    public static string Hash(string key) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key))).ToLowerInvariant();
}
