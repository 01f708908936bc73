using System.Text;
using System.Text.Json;
using Chive.AtProto.Identifiers;
using Chive.AtProto.Identity;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Chive.AtProto.Auth;

/// <summary>Why a service-auth token was refused; each is a label of the refusal metric.</summary>
public enum ServiceAuthFailure
{
    Malformed,
    UnsupportedAlgorithm,
    NoExpiry,
    Expired,
    IssuedInFuture,
    LifetimeTooLong,
    WrongAudience,
    MissingMethod,
    WrongMethod,
    UnknownIssuer,
    BadSignature,
    HighS,
    Replayed,
    NotAdmin,
}

/// <summary>A refusal: its reason and what the caller is told (no more than needed to fix a honest mistake).</summary>
public sealed record ServiceAuthRefusal(ServiceAuthFailure Reason, string Message);

/// <summary>What the token claims, before its signature is checked.</summary>
public sealed record ServiceAuthClaims(Did Issuer, string Audience, string? Method, DateTimeOffset Expires, DateTimeOffset? IssuedAt, string? Jti);

/// <summary>What a token must say to be accepted here.</summary>
public sealed record ServiceAuthExpectations(string Audience, string Method, TimeSpan ClockSkew, TimeSpan MaxLifetime);

/// <summary>
/// An AT Protocol inter-service auth token (a JWT signed with the issuer's atproto key): <see cref="Read"/> checks what
/// needs no network — the form, <c>alg</c> (ES256K or ES256 only; never <c>none</c>, never HMAC), <c>exp</c> (required,
/// in the future), <c>iat</c> (not in the future), the lifetime, <c>aud</c>, <c>lxm</c> (exactly the method called) —
/// so junk costs nothing and an issuer that is not wanted can be turned away before its DID is resolved;
/// <see cref="VerifySignatureAsync"/> then checks the signature with the <c>#atproto</c> key of the issuer's DID
/// document (resolved once more past the cache on a bad signature, for a rotated key). Parsing is Microsoft's JWT reader.
/// </summary>
public sealed class ServiceAuthToken
{
    private ServiceAuthToken(JsonWebToken jwt, ServiceAuthClaims claims, string algorithm)
    {
        Jwt = jwt;
        Claims = claims;
        Algorithm = algorithm;
    }

    public ServiceAuthClaims Claims { get; }

    public string Algorithm { get; }

    private JsonWebToken Jwt { get; }

    /// <summary>A bearer value that has the form of a JWT (three dot-separated parts), as opposed to an operator key.</summary>
    public static bool LooksLikeJwt(string bearer) => bearer.Count(c => c == '.') == 2;

    public static (ServiceAuthToken? Token, ServiceAuthRefusal? Refusal) Read(string token, ServiceAuthExpectations expect, DateTimeOffset now)
    {
        JsonWebToken jwt;
        JsonElement payload;
        try
        {
            if (token.Length > 8192)
            {
                return Refuse(ServiceAuthFailure.Malformed, "the token is too long");
            }

            jwt = new JsonWebToken(token);
            using var document = JsonDocument.Parse(Base64UrlEncoder.DecodeBytes(jwt.EncodedPayload));
            payload = document.RootElement.Clone();
        }
        catch (Exception ex) when (ex is ArgumentException or SecurityTokenMalformedException or JsonException or FormatException)
        {
            return Refuse(ServiceAuthFailure.Malformed, "the token is not a JWT");
        }

        if (jwt.Alg is not ("ES256K" or "ES256"))
        {
            return Refuse(ServiceAuthFailure.UnsupportedAlgorithm, "alg must be ES256K or ES256");
        }

        if (payload.ValueKind != JsonValueKind.Object || string.IsNullOrEmpty(jwt.EncodedSignature))
        {
            return Refuse(ServiceAuthFailure.Malformed, "the token is not a signed JWT with a JSON object payload");
        }

        if (Number(payload, "exp") is not { } exp)
        {
            return Refuse(ServiceAuthFailure.NoExpiry, "the token has no exp");
        }

        var expires = DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(exp, 0, 253402300799));
        if (expires + expect.ClockSkew <= now)
        {
            return Refuse(ServiceAuthFailure.Expired, "the token has expired");
        }

        DateTimeOffset? issued = Number(payload, "iat") is { } iat ? DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(iat, 0, 253402300799)) : null;
        if (issued - expect.ClockSkew > now)
        {
            return Refuse(ServiceAuthFailure.IssuedInFuture, "the token was issued in the future (iat)");
        }

        if (expires - (issued ?? now) > expect.MaxLifetime)
        {
            return Refuse(ServiceAuthFailure.LifetimeTooLong, $"the token lives longer than {expect.MaxLifetime.TotalSeconds:0} s");
        }

        if (Str(payload, "aud") != expect.Audience)
        {
            return Refuse(ServiceAuthFailure.WrongAudience, "the token is for another service (aud)");
        }

        switch (Str(payload, "lxm"))
        {
            case null:
                return Refuse(ServiceAuthFailure.MissingMethod, $"the token names no method (lxm); it must name {expect.Method}");
            case var lxm when lxm != expect.Method:
                return Refuse(ServiceAuthFailure.WrongMethod, $"the token is for another method (lxm); it must name {expect.Method}");
        }

        // The issuer may name one of its services (did:…#service); the key is the DID's.
        var iss = Str(payload, "iss");
        if (iss is null || !Did.TryParse(iss.Split('#')[0], out var issuer))
        {
            return Refuse(ServiceAuthFailure.Malformed, "the token's iss is not a DID");
        }

        var claims = new ServiceAuthClaims(issuer, expect.Audience, expect.Method, expires, issued, Str(payload, "jti"));
        return (new ServiceAuthToken(jwt, claims, jwt.Alg), null);
    }

    /// <summary>
    /// Null when the issuer's key signed the token (the key's curve must be the one <c>alg</c> names). A bad signature
    /// is checked again with the DID document fetched past the cache before it is refused (the key may have rotated).
    /// </summary>
    public async Task<ServiceAuthRefusal?> VerifySignatureAsync(DidResolver resolver, CancellationToken cancellationToken)
    {
        var signed = Encoding.ASCII.GetBytes(Jwt.EncodedHeader + "." + Jwt.EncodedPayload);
        byte[] signature;
        try
        {
            signature = Base64UrlEncoder.DecodeBytes(Jwt.EncodedSignature);
        }
        catch (FormatException)
        {
            return new ServiceAuthRefusal(ServiceAuthFailure.Malformed, "the signature is not base64url");
        }

        for (var attempt = 0; attempt < 2; attempt++)
        {
            if (attempt == 1)
            {
                resolver.Invalidate(Claims.Issuer);
            }

            AtprotoSigningKey? key;
            try
            {
                key = (await resolver.ResolveAsync(Claims.Issuer, cancellationToken)).SigningKey;
            }
            catch (DidResolutionException)
            {
                return new ServiceAuthRefusal(ServiceAuthFailure.UnknownIssuer, "the issuer's DID document cannot be resolved");
            }

            var curve = Algorithm == "ES256K" ? SigningKeyCurve.Secp256k1 : SigningKeyCurve.P256;
            var check = key is null || key.Curve != curve ? SignatureCheck.Invalid : AtprotoSignature.Verify(key, signed, signature);
            switch (check)
            {
                case SignatureCheck.Valid:
                    return null;
                case SignatureCheck.HighS:
                    return new ServiceAuthRefusal(ServiceAuthFailure.HighS, "the signature is not in low-S form");
            }
        }

        return new ServiceAuthRefusal(ServiceAuthFailure.BadSignature, "the signature is not the issuer's");
    }

    private static (ServiceAuthToken?, ServiceAuthRefusal?) Refuse(ServiceAuthFailure reason, string message) => (null, new ServiceAuthRefusal(reason, message));

    private static string? Str(JsonElement payload, string name) =>
        payload.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static long? Number(JsonElement payload, string name) =>
        payload.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) ? number : null;
}
