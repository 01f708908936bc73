using Chive.AtProto.Auth;

namespace Chive.AdminApi.Auth;

/// <summary>
/// <c>Authorization: Bearer &lt;credential&gt;</c>: a value of JWT form is a service-auth token (Chive's web app, on behalf
/// of a signed-in administrator), anything else an operator key (the page, scripts). No header: 401.
/// </summary>
public sealed class AdminAuthenticator(ApiKeyAuthenticator keys, ServiceAuthAuthenticator tokens, AdminAuthMetrics metrics) : IAdminAuthenticator
{
    public async ValueTask<AdminAuthResult> AuthenticateAsync(HttpRequest request, string nsid, CancellationToken cancellationToken)
    {
        var header = request.Headers.Authorization.ToString();
        if (string.IsNullOrWhiteSpace(header))
        {
            metrics.Refused("no_credentials");
            return new AdminAuthResult.Anonymous("this method needs an admin's credentials (Authorization: Bearer <operator key or service-auth token>)");
        }

        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header.Length <= 7)
        {
            metrics.Refused("not_bearer");
            return new AdminAuthResult.Anonymous("the Authorization header is not 'Bearer <credential>'");
        }

        var credential = header[7..].Trim();
        if (ServiceAuthToken.LooksLikeJwt(credential))
        {
            return await tokens.AuthenticateAsync(credential, nsid, cancellationToken);
        }

        var result = keys.Authenticate(credential);
        if (result is AdminAuthResult.Refused)
        {
            metrics.Refused("unknown_key");
        }

        return result;
    }
}
