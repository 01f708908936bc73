using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Chive.AtProto.Identifiers;
using Chive.AtProto.Xrpc;
using Chive.Testing;
using Chive.Testing.Doubles;
using Chive.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Chive.Tests.AtProto;

/// <summary>The client against the real reference PDS and PLC directory.</summary>
[Collection(AtprotoNetworkCollection.Name)]
public sealed class XrpcClientNetworkTests(AtprotoNetworkFixture fixture, ITestOutputHelper output)
{
    private static readonly Nsid Submission = Nsid.Parse("pub.chive.eprint.submission");
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private Uri Pds => fixture.Network.PdsUrls[0];

    [Fact]
    public async Task A_did_plc_account_resolves_to_its_PDS_handle_and_signing_key()
    {
        var account = (await fixture.Network.SeedAsync(0, Account("res", 0)))[0];
        var resolver = TestClients.Resolver(fixture.Network.PlcUrl);

        var identity = await resolver.ResolveAsync(Did.Parse(account.Did)).WaitAsync(Timeout);

        Assert.Equal(Pds.ToString().TrimEnd('/'), identity.PdsEndpoint.ToString().TrimEnd('/'));
        Assert.Equal(account.Handle, identity.Handle?.Value);
        Assert.NotNull(identity.SigningKey);
        Assert.Equal(33, identity.SigningKey.PublicKey.Length);
    }

    [Fact]
    public async Task Repos_are_listed_across_pages()
    {
        var seeded = await fixture.Network.SeedAsync(0, [.. Enumerable.Range(0, 5).Select(i => Account($"lr{i}", 0))]);
        var client = TestClients.Xrpc();

        var listed = new List<RepoEntry>();
        await foreach (var repo in client.ListAllReposAsync(Pds, pageSize: 2).WithCancellation(new CancellationTokenSource(Timeout).Token))
        {
            listed.Add(repo);
        }

        Assert.Equal(listed.Count, listed.Select(r => r.Did).Distinct().Count());
        Assert.Superset(seeded.Select(a => a.Did).ToHashSet(), listed.Select(r => r.Did.Value).ToHashSet());
        Assert.All(listed, r => Assert.True(r.Active));
    }

    [Fact]
    public async Task DescribeRepo_names_the_collections_the_repo_holds()
    {
        var account = (await fixture.Network.SeedAsync(0, Account("dr", 1)))[0];
        var client = TestClients.Xrpc();

        var description = await client.DescribeRepoAsync(Pds, Did.Parse(account.Did)).WaitAsync(Timeout);

        Assert.Contains(Submission, description.Collections);
        Assert.Equal(account.Handle, description.Handle);
    }

    [Fact]
    public async Task More_than_100_records_stream_across_pages_and_get_record_returns_one()
    {
        var account = (await fixture.Network.SeedAsync(0, Account("st", 230)))[0];
        var client = TestClients.Xrpc();

        var streamed = new List<RecordEntry>();
        await foreach (var record in client.ListAllRecordsAsync(Pds, Did.Parse(account.Did), Submission).WithCancellation(new CancellationTokenSource(Timeout).Token))
        {
            streamed.Add(record);
        }

        Assert.Equal(230, streamed.Count);
        Assert.Equal(account.Records.Select(r => r.Uri).Order(), streamed.Select(r => r.Uri.Value).Order());
        var first = streamed[0];
        var fetched = await client.GetRecordAsync(Pds, first.Uri).WaitAsync(Timeout);
        Assert.Equal(first.Cid, fetched.Cid);
        Assert.Equal(first.Value.GetProperty("title").GetString(), fetched.Value.GetProperty("title").GetString());
    }

    [Fact]
    public async Task A_missing_record_is_RecordNotFound_and_not_retried()
    {
        var account = (await fixture.Network.SeedAsync(0, Account("nf", 0)))[0];
        await using var proxy = await HttpFaultProxy.StartNewAsync(Pds);
        var client = TestClients.Xrpc();
        var missing = AtUri.Create(Did.Parse(account.Did), Submission, RecordKey.Parse("3zzzzzzzzzzzz"));

        var error = await Assert.ThrowsAsync<XrpcException>(() => client.GetRecordAsync(proxy.BaseAddress, missing).WaitAsync(Timeout));

        Assert.Equal(XrpcErrorKind.RecordNotFound, error.Kind);
        Assert.Equal(400, error.HttpStatus);
        Assert.Equal(1, proxy.Requests);
    }

    [Fact]
    public async Task A_deactivated_account_is_reported_with_its_status()
    {
        var account = (await fixture.Network.SeedAsync(0, Account("da", 1)))[0];
        using (var user = new HttpClient { BaseAddress = Pds })
        {
            // The user deactivates their own account (the test plays the user's client; Chive never writes).
            using var request = new HttpRequestMessage(HttpMethod.Post, "/xrpc/com.atproto.server.deactivateAccount") { Content = JsonContent.Create(new JsonObject()) };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", account.AccessJwt);
            using var response = await user.SendAsync(request);
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        }

        var client = TestClients.Xrpc();
        var did = Did.Parse(account.Did);

        RepoEntry? entry = null;
        await foreach (var repo in client.ListAllReposAsync(Pds).WithCancellation(new CancellationTokenSource(Timeout).Token))
        {
            if (repo.Did == did)
            {
                entry = repo;
            }
        }

        Assert.NotNull(entry);
        Assert.False(entry.Active);
        Assert.Equal("deactivated", entry.Status);

        var described = await Assert.ThrowsAsync<XrpcException>(() => client.DescribeRepoAsync(Pds, did).WaitAsync(Timeout));
        Assert.Equal(XrpcErrorKind.RepoDeactivated, described.Kind);
        Assert.True(described.IsRepoUnavailable);

        // listRecords on the reference PDS says "Could not find repo" (400 InvalidRequest): typed as RepoNotFound.
        var listed = await Assert.ThrowsAsync<XrpcException>(() => client.ListRecordsPageAsync(Pds, did, Submission).WaitAsync(Timeout));
        Assert.Equal(XrpcErrorKind.RepoNotFound, listed.Kind);
        Assert.True(listed.IsRepoUnavailable);
    }

    [Fact]
    public async Task Listing_1000_records_takes_eleven_requests()
    {
        var account = (await fixture.Network.SeedAsync(0, Account("k1", 1000)))[0];
        await using var proxy = await HttpFaultProxy.StartNewAsync(Pds);
        var client = TestClients.Xrpc();

        var watch = Stopwatch.StartNew();
        var count = 0;
        await foreach (var _ in client.ListAllRecordsAsync(proxy.BaseAddress, Did.Parse(account.Did), Submission).WithCancellation(new CancellationTokenSource(Timeout).Token))
        {
            count++;
        }

        watch.Stop();
        Assert.Equal(1000, count);
        // 10 full pages of 100; the reference PDS gives the 10th a cursor too, and an empty 11th page ends the listing.
        Assert.Equal(11, proxy.Requests);
        output.WriteLine($"1,000 records, test politeness (1000/s): {proxy.Requests} requests in {watch.ElapsedMilliseconds} ms");

        // The same listing with the production defaults (5 requests/s per host, burst 5), for the record.
        proxy.ResetCount();
        var polite = new XrpcClient(TestClients.Http(new XrpcOptions()));
        watch.Restart();
        count = 0;
        await foreach (var _ in polite.ListAllRecordsAsync(proxy.BaseAddress, Did.Parse(account.Did), Submission).WithCancellation(new CancellationTokenSource(Timeout).Token))
        {
            count++;
        }

        Assert.Equal(1000, count);
        Assert.Equal(11, proxy.Requests);
        output.WriteLine($"1,000 records, default politeness (5/s, burst 5): {proxy.Requests} requests in {watch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task A_blob_streams_whole_under_the_cap_and_is_cut_off_over_it()
    {
        var account = (await fixture.Network.SeedAsync(0, Account("bl", 0)))[0];
        var pdf = new byte[300 * 1024];
        new Random(42).NextBytes(pdf);
        "%PDF-1.7\n"u8.CopyTo(pdf);
        var cid = await UploadDocumentAsync(account, pdf);
        var did = Did.Parse(account.Did);

        await using (var blob = await TestClients.Xrpc().GetBlobAsync(Pds, did, cid).WaitAsync(Timeout))
        {
            using var copy = new MemoryStream();
            await blob.CopyToAsync(copy);
            Assert.Equal(pdf, copy.ToArray());
        }

        var capped = TestClients.Xrpc(TestClients.FastOptions(o => o.MaxBlobBytes = 100 * 1024));
        var error = await Assert.ThrowsAsync<XrpcException>(async () =>
        {
            await using var blob = await capped.GetBlobAsync(Pds, did, cid);
            await blob.CopyToAsync(Stream.Null);
        });
        Assert.Equal(XrpcErrorKind.ResponseTooLarge, error.Kind);
    }

    [Fact]
    public async Task The_repository_streams_as_CAR_bytes()
    {
        var account = (await fixture.Network.SeedAsync(0, Account("cr", 3)))[0];

        await using var car = await TestClients.Xrpc().GetRepoAsync(Pds, Did.Parse(account.Did)).WaitAsync(Timeout);
        using var bytes = new MemoryStream();
        await car.CopyToAsync(bytes);

        // A CARv1 starts with a varint header length, then a DAG-CBOR map {roots, version: 1}.
        var data = bytes.ToArray();
        Assert.True(data.Length > 200, $"only {data.Length} bytes");
        var headerLength = data[0];
        Assert.InRange(headerLength, 10, 127);
        var header = data.AsSpan(1, headerLength);
        Assert.True(header.IndexOf("roots"u8) >= 0 && header.IndexOf("version"u8) >= 0, "not a CAR header");
    }

    /// <summary>The user's client uploads a PDF and references it from a submission (so the PDS keeps the blob).</summary>
    private async Task<Cid> UploadDocumentAsync(SeededAccount account, byte[] pdf)
    {
        using var user = new HttpClient { BaseAddress = Pds };
        user.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", account.AccessJwt);
        using var content = new ByteArrayContent(pdf);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
        using var uploaded = await user.PostAsync("/xrpc/com.atproto.repo.uploadBlob", content);
        var blob = (await uploaded.Content.ReadFromJsonAsync<JsonObject>())!["blob"]!;
        using var written = await user.PostAsJsonAsync("/xrpc/com.atproto.repo.createRecord", new JsonObject
        {
            ["repo"] = account.Did,
            ["collection"] = Submission.Value,
            ["validate"] = false,
            ["record"] = new JsonObject
            {
                ["$type"] = Submission.Value,
                ["title"] = "With a document",
                ["document"] = blob.DeepClone(),
                ["createdAt"] = "2026-11-28T12:00:00Z",
            },
        });
        Assert.True(written.IsSuccessStatusCode, await written.Content.ReadAsStringAsync());
        return Cid.Parse(blob["ref"]!["$link"]!.GetValue<string>());
    }

    private static SeedAccount Account(string prefix, int records) => new(
        $"{prefix}{Guid.NewGuid():N}"[..12] + ".test",
        [.. Enumerable.Range(1, records).Select(i => new SeedRecord(Submission.Value, new JsonObject
        {
            ["$type"] = Submission.Value,
            ["title"] = $"Eprint {i}",
            ["createdAt"] = "2026-11-28T12:00:00Z",
        }))]);
}
