using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Chive.AtProto.Identity;
using Chive.Testing;
using Chive.Testing.Doubles;
using Chive.Tests.Infrastructure;
using Microsoft.IdentityModel.Tokens;

namespace Chive.Tests.AdminApi;

/// <summary>
/// AT Protocol service auth on the admin methods: real tokens minted by the reference PDS
/// (<c>com.atproto.server.getServiceAuth</c>) for accounts whose DID documents live on the real PLC, and tokens of a
/// did:web administrator whose document (and key) the test serves, for what a PDS will not mint (a future <c>iat</c>,
/// a rotated key). Every refusal says why, with its XRPC error, and is counted by reason.
/// </summary>
[Collection(ChiveAppCollection.Name)]
public sealed class ServiceAuthTests(ChiveAppFixture fixture)
{
    private const string Status = "pub.chive.admin.getBackfillStatus";
    private const string Types = "pub.chive.admin.listBackfillTypes";

    [Fact]
    public async Task A_token_of_an_administrator_for_the_method_it_names_is_accepted_and_every_other_is_refused_saying_why()
    {
        var (admin, stranger) = await AccountsAsync();
        await fixture.SetAdminDidsAsync(admin.Did);
        await EventuallyAsync(async () => (await CallAsync(Status, await MintAsync(admin, Status))).Status == HttpStatusCode.OK);

        // Accepted, and the operation it starts records the DID.
        var token = await MintAsync(admin, "pub.chive.admin.triggerDIDSync");
        using (var client = Client(token))
        using (var started = await client.PostAsJsonAsync("/xrpc/pub.chive.admin.triggerDIDSync", new { did = admin.Did }))
        {
            Assert.Equal(HttpStatusCode.OK, started.StatusCode);
            var id = (await started.Content.ReadFromJsonAsync<JsonObject>())!["operationId"]!.GetValue<string>();
            using var operator_ = fixture.CreateAdminClient();
            Assert.Equal(admin.Did, (await operator_.GetOperationAsync(id)).Meta("startedBy"));
        }

        // The same token again: its jti was seen.
        using (var client = Client(token))
        {
            await AdminCalls.AssertErrorAsync(await client.PostAsJsonAsync("/xrpc/pub.chive.admin.triggerDIDSync", new { did = admin.Did }),
                HttpStatusCode.Unauthorized, "InvalidToken");
        }

        await RefusedAsync(null, HttpStatusCode.Unauthorized, "AuthenticationRequired", "needs an admin's credentials");
        await RefusedAsync("eyJhbGciOiJFUzI1NksifQ.bm90IGpzb24.c2ln", HttpStatusCode.Unauthorized, "InvalidToken", "not a JWT");
        await RefusedAsync(TamperSignature(await MintAsync(admin, Status)), HttpStatusCode.Unauthorized, "InvalidToken", "not the issuer's");
        await RefusedAsync(await MintAsync(admin, Status, aud: "did:web:someone-else.test"), HttpStatusCode.Unauthorized, "InvalidToken", "another service");
        await RefusedAsync(await MintAsync(admin, Types), HttpStatusCode.Unauthorized, "InvalidToken", "another method");
        await RefusedAsync(await MintAsync(admin, lxm: null), HttpStatusCode.Unauthorized, "InvalidToken", "names no method");
        await RefusedAsync(await MintAsync(stranger, Status), HttpStatusCode.Forbidden, "Forbidden", "not an administrator");
        await RefusedAsync(HighS(await MintAsync(admin, Status)), HttpStatusCode.Unauthorized, "InvalidToken", "low-S");
        var valid = await MintAsync(admin, Status);
        await RefusedAsync(Forged(valid, "none", _ => []), HttpStatusCode.Unauthorized, "InvalidToken", "alg must be ES256K or ES256");
        var publicKey = Encoding.UTF8.GetBytes((await PublicKeyAsync(admin.Did)).Multibase);
        await RefusedAsync(Forged(valid, "HS256", signed => HMACSHA256.HashData(publicKey, signed)), HttpStatusCode.Unauthorized, "InvalidToken",
            "alg must be ES256K or ES256");

        // Expired: a token that lived two seconds, presented once the one second of allowed skew is over too.
        var shortLived = await MintAsync(admin, Status, exp: DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 2);
        await Task.Delay(TimeSpan.FromSeconds(4));
        await RefusedAsync(shortLived, HttpStatusCode.Unauthorized, "InvalidToken", "expired");

        // Removed from the administrators while running: refused from then on, without a restart.
        await fixture.SetAdminDidsAsync(stranger.Did);
        await EventuallyAsync(async () => (await CallAsync(Status, await MintAsync(admin, Status))).Status == HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.OK, (await CallAsync(Status, await MintAsync(stranger, Status))).Status);

        using var metricsClient = fixture.CreateClient(Chive.ServiceDefaults.ResourceNames.AdminApi);
        var metrics = new PrometheusText(await metricsClient.GetStringAsync("/metrics"));
        foreach (var reason in new[] { "no_credentials", "malformed", "bad_signature", "wrong_audience", "wrong_method", "missing_method", "not_admin", "high_s",
                     "unsupported_algorithm", "expired", "replayed" })
        {
            metrics.AssertHas("chive_admin_auth_refusals_total", ("reason", reason));
        }
    }

    [Fact]
    public async Task A_did_web_administrator_is_accepted_a_rotated_key_is_looked_up_again_and_a_token_from_the_future_is_refused()
    {
        await using var host = await DidWebHost.StartNewAsync();
        using var first = new ServiceAuthSigner(SigningKeyCurve.P256);
        host.Document = first.DocumentFor(host);
        await fixture.SetAdminDidsAsync(host.Did);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        await EventuallyAsync(async () => (await CallAsync(Status, first.Sign(host.Did, ChiveAppFixture.ServiceDid, Status, now, now + 60))).Status == HttpStatusCode.OK);
        var fetches = host.Fetches;

        // Many calls, one resolution (the document is cached).
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await CallAsync(Status, first.Sign(host.Did, ChiveAppFixture.ServiceDid, Status, now, now + 60))).Status);
        }

        Assert.Equal(fetches, host.Fetches);

        // The key rotates (to secp256k1): a token signed with the new key fails against the cached document, which is
        // fetched again.
        using var second = new ServiceAuthSigner(SigningKeyCurve.Secp256k1);
        host.Document = second.DocumentFor(host);
        Assert.Equal(HttpStatusCode.OK, (await CallAsync(Status, second.Sign(host.Did, ChiveAppFixture.ServiceDid, Status, now, now + 60))).Status);
        Assert.Equal(fetches + 1, host.Fetches);
        await RefusedAsync(first.Sign(host.Did, ChiveAppFixture.ServiceDid, Status, now, now + 60), HttpStatusCode.Unauthorized, "InvalidToken", "not the issuer's");

        await RefusedAsync(second.Sign(host.Did, ChiveAppFixture.ServiceDid, Status, now + 120, now + 180), HttpStatusCode.Unauthorized, "InvalidToken", "issued in the future");
        await RefusedAsync(second.Sign(host.Did, ChiveAppFixture.ServiceDid, Status, now, now + 7200), HttpStatusCode.Unauthorized, "InvalidToken", "lives longer than");
        await RefusedAsync(second.Sign(host.Did + "#admin_ui", ChiveAppFixture.ServiceDid, Status, now, now + 60), HttpStatusCode.OK, null, null);
    }

    private async Task<(SeededAccount Admin, SeededAccount Stranger)> AccountsAsync()
    {
        var tag = Guid.NewGuid().ToString("N")[..8];
        var accounts = await fixture.Network.SeedAsync(0, new SeedAccount($"adm{tag}.test", []), new SeedAccount($"str{tag}.test", []));
        return (accounts[0], accounts[1]);
    }

    /// <summary>A token from the account's PDS (<c>com.atproto.server.getServiceAuth</c>), as Chive's web app gets one.</summary>
    private async Task<string> MintAsync(SeededAccount account, string? lxm, string aud = ChiveAppFixture.ServiceDid, long? exp = null)
    {
        using var pds = new HttpClient { BaseAddress = fixture.Network.PdsUrls[0] };
        pds.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", account.AccessJwt);
        var query = $"aud={Uri.EscapeDataString(aud)}" + (lxm is null ? "" : $"&lxm={lxm}") + (exp is null ? "" : $"&exp={exp}");
        using var response = await pds.GetAsync($"/xrpc/com.atproto.server.getServiceAuth?{query}");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonNode.Parse(body)!["token"]!.GetValue<string>();
    }

    private HttpClient Client(string? token)
    {
        var client = fixture.CreateClient(Chive.ServiceDefaults.ResourceNames.AdminApi);
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    private async Task<(HttpStatusCode Status, string Body)> CallAsync(string method, string? token)
    {
        using var client = Client(token);
        using var response = await client.GetAsync($"/xrpc/{method}");
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task RefusedAsync(string? token, HttpStatusCode status, string? error, string? says)
    {
        var (actual, body) = await CallAsync(Status, token);
        Assert.True(actual == status, $"expected {(int)status}, got {(int)actual}: {body}");
        if (error is not null)
        {
            var json = JsonNode.Parse(body)!;
            Assert.Equal(error, json["error"]!.GetValue<string>());
            Assert.Contains(says!, json["message"]!.GetValue<string>(), StringComparison.Ordinal);
        }
    }

    private async Task<AtprotoSigningKey> PublicKeyAsync(string did)
    {
        using var plc = new HttpClient { BaseAddress = fixture.Network.PlcUrl };
        var document = await plc.GetFromJsonAsync<System.Text.Json.JsonElement>("/" + did);
        return DidDocument.Parse(Chive.AtProto.Identifiers.Did.Parse(did), document).SigningKey!;
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the AdminApi did not pick up the administrators' file");
            await Task.Delay(200);
        }
    }

    /// <summary>The same token with one byte of its signature changed.</summary>
    private static string TamperSignature(string token)
    {
        var parts = token.Split('.');
        var signature = Base64UrlEncoder.DecodeBytes(parts[2]);
        signature[10] ^= 0x01;
        return $"{parts[0]}.{parts[1]}.{Base64UrlEncoder.Encode(signature)}";
    }

    /// <summary>The same signature's high-S twin (s → n − s): still a valid ECDSA signature, refused by the protocol.</summary>
    private static string HighS(string token)
    {
        var parts = token.Split('.');
        var signature = Base64UrlEncoder.DecodeBytes(parts[2]);
        var curve = JsonNode.Parse(Base64UrlEncoder.Decode(parts[0]))!["alg"]!.GetValue<string>() == "ES256K" ? SigningKeyCurve.Secp256k1 : SigningKeyCurve.P256;
        return $"{parts[0]}.{parts[1]}.{Base64UrlEncoder.Encode(ServiceAuthSigner.HighSTwin(signature, curve))}";
    }

    /// <summary>The token's claims under another header, signed by <paramref name="sign"/> (empty: no signature).</summary>
    private static string Forged(string token, string alg, Func<byte[], byte[]> sign)
    {
        var payload = token.Split('.')[1];
        var header = Base64UrlEncoder.Encode($$"""{"typ":"JWT","alg":"{{alg}}"}""");
        var signature = sign(Encoding.ASCII.GetBytes($"{header}.{payload}"));
        return $"{header}.{payload}.{Base64UrlEncoder.Encode(signature)}";
    }
}
