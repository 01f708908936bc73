using System.Text;
using Chive.AtProto.Auth;
using Chive.AtProto.Identity;
using Chive.Testing;
using Microsoft.IdentityModel.Tokens;

namespace Chive.UnitTests.Auth;

/// <summary>
/// Service-auth tokens without the network: what <see cref="ServiceAuthToken.Read"/> refuses before any DID is resolved,
/// and <see cref="AtprotoSignature"/> on both curves (valid, tampered, high-S, wrong key, not a point).
/// </summary>
public sealed class ServiceAuthTokenTests
{
    private const string Aud = "did:web:backfill.chive.test";
    private const string Method = "pub.chive.admin.getBackfillStatus";
    private const string Iss = "did:web:admin.example.com";
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
    private static readonly ServiceAuthExpectations Expect = new(Aud, Method, TimeSpan.FromSeconds(30), TimeSpan.FromHours(1));

    public static TheoryData<string, ServiceAuthFailure> Refused()
    {
        var t = Now.ToUnixTimeSeconds();
        return new()
        {
            { Token("""{"alg":"none"}""", $$"""{"iss":"{{Iss}}","aud":"{{Aud}}","lxm":"{{Method}}","exp":{{t + 60}}}""", signature: ""), ServiceAuthFailure.UnsupportedAlgorithm },
            { Token("""{"alg":"HS256"}""", $$"""{"iss":"{{Iss}}","aud":"{{Aud}}","lxm":"{{Method}}","exp":{{t + 60}}}"""), ServiceAuthFailure.UnsupportedAlgorithm },
            { Token("""{"alg":"RS256"}""", $$"""{"iss":"{{Iss}}","aud":"{{Aud}}","lxm":"{{Method}}","exp":{{t + 60}}}"""), ServiceAuthFailure.UnsupportedAlgorithm },
            { Token("""{"alg":"ES256K"}""", $$"""{"iss":"{{Iss}}","aud":"{{Aud}}","lxm":"{{Method}}"}"""), ServiceAuthFailure.NoExpiry },
            { Token("""{"alg":"ES256K"}""", $$"""{"iss":"{{Iss}}","aud":"{{Aud}}","lxm":"{{Method}}","exp":"{{t + 60}}"}"""), ServiceAuthFailure.NoExpiry },
            { Token("""{"alg":"ES256K"}""", $$"""{"iss":"{{Iss}}","aud":"{{Aud}}","lxm":"{{Method}}","exp":{{t - 31}}}"""), ServiceAuthFailure.Expired },
            { Token("""{"alg":"ES256K"}""", $$"""{"iss":"{{Iss}}","aud":"{{Aud}}","lxm":"{{Method}}","iat":{{t + 31}},"exp":{{t + 90}}}"""), ServiceAuthFailure.IssuedInFuture },
            { Token("""{"alg":"ES256K"}""", $$"""{"iss":"{{Iss}}","aud":"{{Aud}}","lxm":"{{Method}}","iat":{{t}},"exp":{{t + 3601}}}"""), ServiceAuthFailure.LifetimeTooLong },
            { Token("""{"alg":"ES256K"}""", $$"""{"iss":"{{Iss}}","aud":"did:web:other.test","lxm":"{{Method}}","exp":{{t + 60}}}"""), ServiceAuthFailure.WrongAudience },
            { Token("""{"alg":"ES256K"}""", $$"""{"iss":"{{Iss}}","aud":["{{Aud}}"],"lxm":"{{Method}}","exp":{{t + 60}}}"""), ServiceAuthFailure.WrongAudience },
            { Token("""{"alg":"ES256K"}""", $$"""{"iss":"{{Iss}}","aud":"{{Aud}}","exp":{{t + 60}}}"""), ServiceAuthFailure.MissingMethod },
            { Token("""{"alg":"ES256K"}""", $$"""{"iss":"{{Iss}}","aud":"{{Aud}}","lxm":"pub.chive.admin.cancelBackfill","exp":{{t + 60}}}"""), ServiceAuthFailure.WrongMethod },
            { Token("""{"alg":"ES256K"}""", $$"""{"iss":"{{Iss}}","aud":"{{Aud}}","lxm":"*","exp":{{t + 60}}}"""), ServiceAuthFailure.WrongMethod },
            { Token("""{"alg":"ES256K"}""", $$"""{"iss":"not a did","aud":"{{Aud}}","lxm":"{{Method}}","exp":{{t + 60}}}"""), ServiceAuthFailure.Malformed },
            { Token("""{"alg":"ES256K"}""", $$"""{"aud":"{{Aud}}","lxm":"{{Method}}","exp":{{t + 60}}}"""), ServiceAuthFailure.Malformed },
            { Token("""{"alg":"ES256K"}""", $$"""{"iss":"{{Iss}}","aud":"{{Aud}}","lxm":"{{Method}}","exp":{{t + 60}}}""", signature: ""), ServiceAuthFailure.Malformed },
            { "a.b.c", ServiceAuthFailure.Malformed },
            { "only.two", ServiceAuthFailure.Malformed },
            { Token("""{"alg":"ES256K"}""", "[1,2,3]"), ServiceAuthFailure.Malformed },
            { "x." + new string('a', 9000) + ".y", ServiceAuthFailure.Malformed },
        };
    }

    [Theory]
    [MemberData(nameof(Refused))]
    public void A_token_that_cannot_be_accepted_is_refused_before_its_issuer_is_looked_up(string token, ServiceAuthFailure reason)
    {
        var (read, refusal) = ServiceAuthToken.Read(token, Expect, Now);

        Assert.Null(read);
        Assert.Equal(reason, refusal!.Reason);
    }

    [Fact]
    public void Within_the_clock_skew_a_token_is_read_and_a_service_fragment_on_iss_names_the_DID()
    {
        var t = Now.ToUnixTimeSeconds();
        var (read, refusal) = ServiceAuthToken.Read(
            Token("""{"alg":"ES256"}""", $$"""{"iss":"{{Iss}}#admin_ui","aud":"{{Aud}}","lxm":"{{Method}}","iat":{{t + 20}},"exp":{{t - 20}},"jti":"abc"}"""), Expect, Now);

        Assert.Null(refusal);
        Assert.Equal((Iss, "abc", "ES256"), (read!.Claims.Issuer.Value, read.Claims.Jti, read.Algorithm));
    }

    [Theory]
    [InlineData(SigningKeyCurve.Secp256k1)]
    [InlineData(SigningKeyCurve.P256)]
    public void A_signature_is_valid_only_for_its_bytes_its_key_and_in_low_S_form(SigningKeyCurve curve)
    {
        using var signer = new ServiceAuthSigner(curve);
        using var other = new ServiceAuthSigner(curve);
        Assert.True(Multikey.TryDecode(signer.Multikey, out var key));
        Assert.True(Multikey.TryDecode(other.Multikey, out var otherKey));
        var token = signer.Sign(Iss, Aud, Method, 1, 2);
        var parts = token.Split('.');
        var signed = Encoding.ASCII.GetBytes($"{parts[0]}.{parts[1]}");
        var signature = Base64UrlEncoder.DecodeBytes(parts[2]);

        Assert.Equal(SignatureCheck.Valid, AtprotoSignature.Verify(key, signed, signature));
        Assert.Equal(SignatureCheck.Invalid, AtprotoSignature.Verify(otherKey, signed, signature));
        Assert.Equal(SignatureCheck.Invalid, AtprotoSignature.Verify(key, [.. signed, (byte)' '], signature));
        Assert.Equal(SignatureCheck.Invalid, AtprotoSignature.Verify(key, signed, signature[..63]));
        var tampered = (byte[])signature.Clone();
        tampered[5] ^= 1;
        Assert.Equal(SignatureCheck.Invalid, AtprotoSignature.Verify(key, signed, tampered));

        Assert.Equal(SignatureCheck.HighS, AtprotoSignature.Verify(key, signed, ServiceAuthSigner.HighSTwin(signature, curve)));
    }

    [Fact]
    public void A_key_that_is_not_a_point_of_its_curve_verifies_nothing()
    {
        var notAPoint = new AtprotoSigningKey(SigningKeyCurve.P256, [0x02, .. Enumerable.Repeat((byte)0xff, 32)], "zNotAPoint");

        Assert.Equal(SignatureCheck.Invalid, AtprotoSignature.Verify(notAPoint, "x"u8, new byte[64]));
    }

    private static string Token(string header, string payload, string signature = "c2lnbmF0dXJl") =>
        $"{Base64UrlEncoder.Encode(header)}.{Base64UrlEncoder.Encode(payload)}.{signature}";
}
