using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Chive.Tests.Infrastructure;

/// <summary>The XRPC calls tests make on the AdminApi, with the assertions every caller wants.</summary>
public static class AdminCalls
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    public static async Task<JsonObject> PostAsync(this HttpClient admin, string method, JsonObject body)
    {
        using var response = await admin.PostAsJsonAsync($"/xrpc/pub.chive.admin.{method}", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{method} answered {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    public static async Task<JsonObject> GetOperationAsync(this HttpClient admin, string id) =>
        (await admin.GetFromJsonAsync<JsonObject>($"/xrpc/pub.chive.admin.getBackfillStatus?id={id}"))!["operation"]!.AsObject();

    public static async Task<JsonObject> WaitForAsync(
        this HttpClient admin, string id, Func<JsonObject, bool> condition, TimeSpan? timeout = null, TimeSpan? poll = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Timeout);
        while (true)
        {
            var operation = await admin.GetOperationAsync(id);
            if (condition(operation))
            {
                return operation;
            }

            Assert.True(DateTime.UtcNow < deadline, $"operation {id} stayed {operation.ToJsonString()}");
            await Task.Delay(poll ?? TimeSpan.FromMilliseconds(100));
        }
    }

    /// <summary>Waits until the operation is no longer running and returns it (polling every 100 ms, or <paramref name="poll"/>).</summary>
    public static Task<JsonObject> WaitForEndAsync(this HttpClient admin, string id, TimeSpan? timeout = null, TimeSpan? poll = null) =>
        admin.WaitForAsync(id, op => op.Status() != "running", timeout, poll);

    /// <summary>Triggers a DID sync and waits for its end.</summary>
    public static async Task<JsonObject> DidSyncAsync(this HttpClient admin, string did)
    {
        var started = await admin.PostAsync("triggerDIDSync", new JsonObject { ["did"] = did });
        return await admin.WaitForEndAsync(started["operationId"]!.GetValue<string>());
    }

    public static string Status(this JsonObject operation) => operation["status"]!.GetValue<string>();

    public static long Records(this JsonObject operation) => operation["recordsProcessed"]!.GetValue<long>();

    public static string? Meta(this JsonObject operation, string key) => operation["metadata"]?[key]?.GetValue<string>();

    public static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string error)
    {
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
            var json = JsonNode.Parse(body)!;
            Assert.Equal(error, json["error"]!.GetValue<string>());
            Assert.False(string.IsNullOrWhiteSpace(json["message"]?.GetValue<string>()));
        }
    }
}
