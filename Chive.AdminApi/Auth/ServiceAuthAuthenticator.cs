using Chive.AtProto.Auth;
using Chive.AtProto.Identity;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Chive.AdminApi.Auth;

/// <summary>
/// An AT Protocol service-auth token: accepted when it names this service (<c>Admin:ServiceDid</c>) and exactly the
/// method called, is within its lifetime, comes from a DID in <c>Admin:AdminDids</c> (checked before the DID is
/// resolved, so a stranger's token costs no lookup), carries that DID's signature, and — when it has a <c>jti</c> — was
/// never presented before (kept in Redis until it expires). The operation records the DID as <c>startedBy</c>.
/// </summary>
public sealed class ServiceAuthAuthenticator(
    IOptionsMonitor<AdminOptions> options,
    DidResolver resolver,
    IConnectionMultiplexer redis,
    AdminAuthMetrics metrics,
    TimeProvider time,
    ILogger<ServiceAuthAuthenticator> logger)
{
    private const string ReplayPrefix = "chive:admin:jti:";

    public async ValueTask<AdminAuthResult> AuthenticateAsync(string credential, string nsid, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        if (string.IsNullOrEmpty(settings.ServiceDid))
        {
            metrics.Refused("service_auth_not_configured");
            return new AdminAuthResult.InvalidToken("this service accepts no service-auth tokens (Admin:ServiceDid is not set)");
        }

        var now = time.GetUtcNow();
        var (token, refusal) = ServiceAuthToken.Read(credential, new ServiceAuthExpectations(settings.ServiceDid, nsid, settings.ClockSkew, settings.MaxTokenLifetime), now);
        if (token is null)
        {
            return Refuse(refusal!);
        }

        var issuer = token.Claims.Issuer.Value;
        if (!settings.AdminDids.Contains(issuer, StringComparer.Ordinal))
        {
            return Refuse(new ServiceAuthRefusal(ServiceAuthFailure.NotAdmin, "the token's issuer is not an administrator"));
        }

        if (await token.VerifySignatureAsync(resolver, cancellationToken) is { } bad)
        {
            return Refuse(bad);
        }

        if (token.Claims.Jti is { } jti)
        {
            // Kept until the token could no longer be accepted anyway.
            var keepFor = token.Claims.Expires + settings.ClockSkew - now;
            var fresh = await redis.GetDatabase().StringSetAsync($"{ReplayPrefix}{issuer}:{jti}", 1, keepFor, When.NotExists);
            if (!fresh)
            {
                return Refuse(new ServiceAuthRefusal(ServiceAuthFailure.Replayed, "the token was used before (jti)"));
            }
        }

        return new AdminAuthResult.Admin(issuer);
    }

    private AdminAuthResult Refuse(ServiceAuthRefusal refusal)
    {
        metrics.Refused(Label(refusal.Reason));
        logger.LogInformation("Service-auth token refused: {Reason} ({Message})", refusal.Reason, refusal.Message);
        return refusal.Reason == ServiceAuthFailure.NotAdmin
            ? new AdminAuthResult.Refused(refusal.Message)
            : new AdminAuthResult.InvalidToken(refusal.Message);
    }

    /// <summary>The metric's label: <c>WrongAudience</c> → <c>wrong_audience</c>.</summary>
    public static string Label(ServiceAuthFailure reason) =>
        string.Concat(reason.ToString().Select((c, i) => char.IsUpper(c) ? (i > 0 ? "_" : "") + char.ToLowerInvariant(c) : c.ToString()));
}
