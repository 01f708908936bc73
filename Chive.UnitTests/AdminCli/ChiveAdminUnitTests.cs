using System.Text.Json.Nodes;
using Chive.AdminCli;

namespace Chive.UnitTests.AdminCli;

public sealed class RateEstimateTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Nothing_is_estimated_from_one_sample_or_from_samples_under_a_second_apart()
    {
        var rate = new RateEstimate();
        rate.Add(T0, 0, 0);
        Assert.Null(rate.RecordsPerSecond);
        rate.Add(T0.AddMilliseconds(500), 100, 10);
        Assert.Null(rate.RecordsPerSecond);
        Assert.Null(rate.TimeLeft);
    }

    [Fact]
    public void Records_per_second_and_time_left_follow_the_window()
    {
        var rate = new RateEstimate();
        rate.Add(T0, 0, 0);
        rate.Add(T0.AddSeconds(10), 1000, 20);

        Assert.Equal(100, rate.RecordsPerSecond);
        Assert.Equal(TimeSpan.FromSeconds(40), rate.TimeLeft); // 80 % left at 2 %/s

        // A change of pace: after the window has moved past the first samples, only the recent pace counts.
        rate.Add(T0.AddSeconds(20), 1100, 30);
        rate.Add(T0.AddSeconds(30), 1200, 40);
        Assert.Equal(10, rate.RecordsPerSecond);
        Assert.Equal(TimeSpan.FromSeconds(60), rate.TimeLeft);
    }

    [Fact]
    public void Progress_that_stands_still_or_goes_back_has_no_time_left_and_samples_out_of_order_are_ignored()
    {
        var rate = new RateEstimate();
        rate.Add(T0, 500, 50);
        rate.Add(T0.AddSeconds(2), 400, 40);
        Assert.Null(rate.TimeLeft);
        Assert.Equal(0, rate.RecordsPerSecond);

        rate.Add(T0.AddSeconds(1), 10_000, 99);
        Assert.Equal(0, rate.RecordsPerSecond);
    }
}

public sealed class TerminalTextTests
{
    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("title \u001b]0;pwned\u0007", "title ?]0;pwned?")]
    [InlineData("clear \u001b[2J\r\n", "clear ?[2J??")]
    [InlineData("c1 \u009b31m", "c1 ?31m")]
    [InlineData("bidi \u202Egnp.exe", "bidi ?gnp.exe")]
    [InlineData(null, "")]
    public void Control_characters_never_reach_the_terminal(string? text, string expected) =>
        Assert.Equal(expected, TerminalText.Clean(text));

    [Fact]
    public void Markup_is_escaped_and_long_text_is_cut() =>
        Assert.Equal(("[[red]]x[[/]]", TerminalText.MaxLength + 1), (TerminalText.Safe("[red]x[/]"), TerminalText.Clean(new string('a', 10_000)).Length));
}

public sealed class OperationReadingTests
{
    [Fact]
    public void Fields_of_the_wrong_kind_read_as_empty_not_as_a_crash()
    {
        var operation = Operation.From(JsonNode.Parse("""
            {"id": 7, "type": ["x"], "status": "running", "progress": 250, "recordsProcessed": -3, "startedAt": "yesterday",
             "error": {"a": 1}, "metadata": {"pdsesFailed": "2", "nested": {"x": 1}, "n": 5}}
            """)!.AsObject());

        Assert.Equal(("", "", "running", 100, 0L, null), (operation.Id, operation.Type, operation.Status, operation.Progress, operation.RecordsProcessed, operation.Error));
        Assert.Null(operation.StartedAt);
        Assert.Equal(["n", "pdsesFailed"], operation.Metadata.Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(new[] { "completed", "running" }, ExitCodes.Completed)]
    [InlineData(new[] { "completed", "cancelled" }, ExitCodes.Cancelled)]
    [InlineData(new[] { "cancelled", "failed" }, ExitCodes.Failed)]
    public void Several_outcomes_exit_with_the_worst(string[] statuses, int expected) =>
        Assert.Equal(expected, ExitCodes.Of(statuses));
}

public sealed class AdminClientTests
{
    [Fact]
    public async Task An_answer_whose_body_stalls_after_its_headers_is_unreachable_within_the_timeout()
    {
        var client = Client(_ => new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new StreamContent(new StallingStream()) }, TimeSpan.FromMilliseconds(300));

        var started = System.Diagnostics.Stopwatch.StartNew();
        var refused = await Assert.ThrowsAsync<AdminCliException>(() => client.GetAsync("listBackfillTypes", CancellationToken.None));

        Assert.Equal(ExitCodes.Unreachable, refused.ExitCode);
        Assert.Contains("did not answer", refused.Message, StringComparison.Ordinal);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_connection_reset_in_the_body_is_unreachable_not_a_crash()
    {
        var client = Client(_ => new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new StreamContent(new ResettingStream()) }, TimeSpan.FromSeconds(5));

        var refused = await Assert.ThrowsAsync<AdminCliException>(() => client.GetAsync("listBackfillTypes", CancellationToken.None));

        Assert.Equal(ExitCodes.Unreachable, refused.ExitCode);
    }

    [Theory]
    [InlineData("""{"operation": {"id": "a", "status": "exploded"}}""")]
    [InlineData("""{"operation": {"status": "running"}}""")]
    [InlineData("""{"operation": {"id": "a"}}""")]
    public async Task An_operation_without_an_id_or_with_a_status_the_AdminApi_does_not_use_is_not_its_answer(string answer)
    {
        var client = Client(_ => new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new StringContent(answer) }, TimeSpan.FromSeconds(5));

        var refused = await Assert.ThrowsAsync<AdminCliException>(() => client.GetOperationAsync("a", CancellationToken.None));

        Assert.Equal(ExitCodes.Unreachable, refused.ExitCode);
    }

    private static AdminClient Client(Func<HttpRequestMessage, HttpResponseMessage> answer, TimeSpan timeout) =>
        new(new HttpClient(new Answering(answer)) { BaseAddress = new Uri("http://admin.test/"), Timeout = Timeout.InfiniteTimeSpan }, timeout);

    private sealed class Answering(Func<HttpRequestMessage, HttpResponseMessage> answer) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(answer(request));
    }

    /// <summary>A body that never sends a byte (until cancelled).</summary>
    private sealed class StallingStream : MemoryStream
    {
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return 0;
        }
    }

    /// <summary>A body whose connection is reset after the first bytes.</summary>
    private sealed class ResettingStream : MemoryStream
    {
        private bool _sent;

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_sent)
            {
                throw new IOException("Connection reset by peer");
            }

            _sent = true;
            "{\"ty"u8.CopyTo(buffer.Span);
            return ValueTask.FromResult(4);
        }
    }
}
