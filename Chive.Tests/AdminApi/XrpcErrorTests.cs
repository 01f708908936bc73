using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Chive.Tests.Infrastructure;

namespace Chive.Tests.AdminApi;

/// <summary>
/// Every bad request a caller can make gets a 4xx in the XRPC shape <c>{"error","message"}</c> — never ASP.NET's
/// exception page, a stack trace or an empty body — and starts nothing.
/// </summary>
[Collection(ChiveAppCollection.Name)]
public sealed class XrpcErrorTests(ChiveAppFixture fixture)
{
    private const string Admin = "/xrpc/pub.chive.admin.";

    public static TheoryData<string, string, string?, string?, HttpStatusCode, string> BadRequests() => new()
    {
        // method, path, content type, body, status, error
        { "GET", "getBackfillHistory?limit=abc", null, null, HttpStatusCode.BadRequest, "InvalidRequest" },
        { "GET", "getBackfillHistory?limit=0", null, null, HttpStatusCode.BadRequest, "InvalidRequest" },
        { "GET", "getBackfillHistory?limit=1001", null, null, HttpStatusCode.BadRequest, "InvalidRequest" },
        { "GET", "getBackfillHistory?limit=-5", null, null, HttpStatusCode.BadRequest, "InvalidRequest" },
        { "GET", "getBackfillHistory?limit=2.5", null, null, HttpStatusCode.BadRequest, "InvalidRequest" },
        { "GET", "getBackfillHistory?limit=99999999999999999999", null, null, HttpStatusCode.BadRequest, "InvalidRequest" },
        { "GET", "getBackfillHistory?cursor=garbage", null, null, HttpStatusCode.BadRequest, "InvalidRequest" },
        { "GET", "getBackfillHistory?cursor=99999999999999999_00000000-0000-0000-0000-000000000000", null, null, HttpStatusCode.BadRequest, "InvalidRequest" },
        { "GET", "getBackfillStatus?status=everything", null, null, HttpStatusCode.BadRequest, "InvalidRequest" },
        { "POST", "triggerBackfill", "text/plain", "{\"type\":\"governanceSync\"}", HttpStatusCode.BadRequest, "InvalidRequest" },
        { "POST", "triggerGovernanceSync", "text/plain", "{}", HttpStatusCode.BadRequest, "InvalidRequest" },
        { "POST", "triggerBackfill", "application/x-www-form-urlencoded", "type=governanceSync", HttpStatusCode.BadRequest, "InvalidRequest" },
        { "POST", "triggerBackfill", "application/json", "not json", HttpStatusCode.BadRequest, "InvalidRequest" },
        { "POST", "triggerBackfill", "application/json", "[\"governanceSync\"]", HttpStatusCode.BadRequest, "InvalidRequest" },
        { "POST", "triggerBackfill", "application/json", "", HttpStatusCode.BadRequest, "InvalidRequest" },
        { "POST", "triggerBackfill", "application/json", "{\"type\":5}", HttpStatusCode.BadRequest, "InvalidRequest" },
        { "POST", "triggerBackfill", "application/json", "{\"type\":\"governanceSync\"", HttpStatusCode.BadRequest, "InvalidRequest" },
        { "POST", "triggerFullReindex", "application/json", "{\"batchSize\":\"500\"}", HttpStatusCode.BadRequest, "InvalidRequest" },
        { "POST", "triggerFullReindex", "application/json", "{\"batchSize\":5.5}", HttpStatusCode.BadRequest, "InvalidRequest" },
        { "POST", "triggerFullReindex", "application/json", "{\"batchSize\":0}", HttpStatusCode.BadRequest, "InvalidRequest" },
        { "POST", "triggerDIDSync", "application/json", "{\"did\":5}", HttpStatusCode.BadRequest, "InvalidRequest" },
        { "POST", "triggerDIDSync", "application/json", "{}", HttpStatusCode.BadRequest, "InvalidRequest" },
        { "POST", "triggerPDSScan", "application/json", "{\"pdsUrl\":{\"url\":\"https://pds.example\"}}", HttpStatusCode.BadRequest, "InvalidRequest" },
        { "POST", "cancelBackfill", "text/plain", "{\"id\":\"00000000-0000-0000-0000-000000000000\"}", HttpStatusCode.BadRequest, "InvalidRequest" },
        { "POST", "triggerBackfill", "application/json", "{\"type\":\"governanceSync\",\"pad\":\"" + new string('x', 70_000) + "\"}", HttpStatusCode.RequestEntityTooLarge, "PayloadTooLarge" },
        { "GET", "triggerBackfill", null, null, HttpStatusCode.MethodNotAllowed, "InvalidRequest" },
        { "POST", "getBackfillStatus", "application/json", "{}", HttpStatusCode.MethodNotAllowed, "InvalidRequest" },
        { "POST", "noSuchMethod", "application/json", "{}", HttpStatusCode.NotImplemented, "MethodNotImplemented" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task A_bad_request_is_answered_in_the_XRPC_error_shape(string method, string path, string? contentType, string? body, HttpStatusCode status, string error)
    {
        using var admin = fixture.CreateAdminClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), Admin + path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = contentType is null ? null : new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        }

        var response = await admin.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("Exception", text, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", text, StringComparison.Ordinal);
        await AdminCalls.AssertErrorAsync(response, status, error);
    }

    [Fact]
    public async Task A_trigger_sent_as_text_starts_nothing()
    {
        using var admin = fixture.CreateAdminClient();
        var before = await RunningAsync(admin);

        using var refused = await admin.PostAsync(Admin + "triggerBackfill", new StringContent("{\"type\":\"fullReindex\"}", Encoding.UTF8, "text/plain"));

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal(before, await RunningAsync(admin));
    }

    private static async Task<int> RunningAsync(HttpClient admin)
    {
        var listing = JsonNode.Parse(await admin.GetStringAsync(Admin + "getBackfillStatus?status=running"))!;
        return listing["operations"]!.AsArray().Count(o => o!["type"]!.GetValue<string>() == "fullReindex");
    }
}
