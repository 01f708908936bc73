using System.Text.Json.Nodes;
using Chive.ServiceDefaults;
using Chive.Testing;
using Chive.Testing.Doubles;
using Chive.Tests.GovernanceSync;
using Chive.Tests.Infrastructure;
using Chive.Tests.PdsScan;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Chive.Tests.AdminPage;

/// <summary>
/// Headless Chromium (Debian's package, installed by scripts/install-test-deps.sh) through Playwright, driving the
/// AdminApi's /admin/backfill page against the whole running system. Every test saves a screenshot under
/// .test-state/artifacts/screenshots/ and fails on any console error of the page.
/// </summary>
[Collection(ChiveAppCollection.Name)]
public sealed class BackfillPageTests(ChiveAppFixture fixture, BrowserFixture browser, ITestOutputHelper output) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task Sign_in_refuses_a_wrong_key_then_shows_one_card_per_type_and_works_on_a_narrow_window()
    {
        await using var session = await OpenAsync("sign-in");
        var page = session.Page;

        // Chromium logs every refused request as a console error; this one is the point of the step.
        session.Expect("the server responded with a status of 403");
        await page.GetByLabel("Operator key").FillAsync("not-the-key");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.Locator("#signin-error")).ToContainTextAsync("refused");
        await Expect(page.Locator("#app")).ToBeHiddenAsync();

        await SignInAsync(page);
        await Expect(page.Locator("#cards .card")).ToHaveCountAsync(6);
        await Expect(Card(page, "governanceSync").GetByRole(AriaRole.Button)).ToBeEnabledAsync();
        await Expect(Card(page, "fullReindex").GetByRole(AriaRole.Button)).ToBeEnabledAsync();
        await Expect(Card(page, "freshnessScan").GetByRole(AriaRole.Button)).ToBeEnabledAsync();
        await Expect(Card(page, "freshnessScan").GetByLabel("Tier")).ToHaveValueAsync("");
        await Expect(Card(page, "citationExtraction").GetByRole(AriaRole.Button)).ToBeEnabledAsync();
        await Expect(Card(page, "citationExtraction").GetByLabel("Eprint URI (optional)")).ToHaveValueAsync("");
        output.WriteLine($"first load: {session.BytesOnFirstLoad:N0} bytes transferred in {session.RequestsOnFirstLoad} requests");

        // Keyboard: the DID field and its button are reachable with Tab, and Enter in the field triggers.
        await page.GetByLabel("DID", new() { Exact = true }).FocusAsync();
        await page.Keyboard.PressAsync("Tab");
        await Expect(Card(page, "didSync").GetByRole(AriaRole.Button)).ToBeFocusedAsync();

        await session.ScreenshotAsync("signed-in-1280x800");
        await page.SetViewportSizeAsync(390, 844);
        await Expect(Card(page, "pdsScan")).ToBeVisibleAsync();
        await session.ScreenshotAsync("signed-in-narrow");

        // The key lives for the browser session: a reload stays signed in, signing out asks again.
        await page.ReloadAsync();
        await Expect(page.Locator("#cards .card")).ToHaveCountAsync(6);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(page.GetByLabel("Operator key")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task A_governance_sync_shows_its_progress_bar_moving_then_lands_in_history_completed_with_its_count()
    {
        await new GovernanceSyncTests(fixture, output).EnsureSeededAsync();
        await using var session = await OpenAsync("progress");
        var page = session.Page;
        await SignInAsync(page);

        fixture.GovernancePds.Always = new HttpFault.Slow(TimeSpan.FromMilliseconds(900));
        string id;
        try
        {
            id = await StartAsync(page, "governanceSync", "Started");
            var bar = page.Locator($"#active #op-{id} [role=progressbar]");
            await Expect(bar).ToBeVisibleAsync();
            await page.WaitForFunctionAsync(
                "id => Number(document.querySelector(`#active #op-${id} [role=progressbar]`)?.getAttribute('aria-valuenow') ?? 0) > 0",
                id, new() { Timeout = 60_000, PollingInterval = 100 });
            await session.ScreenshotAsync("running-progress-bar");
        }
        finally
        {
            fixture.GovernancePds.Always = null;
        }

        using var admin = fixture.CreateAdminClient();
        var done = await admin.WaitForEndAsync(id);
        Assert.Equal("completed", done.Status());
        var row = page.Locator($"#history #op-{id}");
        await Expect(row).ToHaveAttributeAsync("data-status", "completed", new() { Timeout = 15_000 });
        await Expect(row.Locator("td[data-label=Records]")).ToHaveTextAsync(done.Records().ToString("N0", System.Globalization.CultureInfo.GetCultureInfo("en")));
        await Expect(page.Locator($"#active #op-{id}")).ToHaveCountAsync(0);
        await session.ScreenshotAsync("history-completed");
    }

    [Fact]
    public async Task Cancel_through_the_dialog_moves_the_operation_to_history_as_cancelled()
    {
        await new GovernanceSyncTests(fixture, output).EnsureSeededAsync();
        await using var session = await OpenAsync("cancel");
        var page = session.Page;
        await SignInAsync(page);

        fixture.GovernancePds.Always = new HttpFault.Slow(TimeSpan.FromMilliseconds(900));
        try
        {
            var id = await StartAsync(page, "governanceSync", "Started");
            var row = page.Locator($"#active #op-{id}");
            await row.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
            var dialog = page.Locator("dialog#confirm");
            await Expect(dialog).ToBeVisibleAsync();
            await session.ScreenshotAsync("cancel-dialog");
            await dialog.GetByRole(AriaRole.Button, new() { Name = "Cancel operation" }).ClickAsync();

            await Expect(page.Locator($"#history #op-{id}")).ToHaveAttributeAsync("data-status", "cancelled", new() { Timeout = 15_000 });
            await session.ScreenshotAsync("history-cancelled");
        }
        finally
        {
            fixture.GovernancePds.Always = null;
        }
    }

    [Fact]
    public async Task Triggering_twice_says_already_running_with_a_link_to_it()
    {
        await new GovernanceSyncTests(fixture, output).EnsureSeededAsync();
        await using var session = await OpenAsync("twice");
        var page = session.Page;
        await SignInAsync(page);

        fixture.GovernancePds.Always = new HttpFault.Slow(TimeSpan.FromMilliseconds(900));
        try
        {
            var first = await StartAsync(page, "governanceSync", "Started");
            var second = await StartAsync(page, "governanceSync", "Already running");
            Assert.Equal(first, second);
            await session.ScreenshotAsync("already-running");
            using var admin = fixture.CreateAdminClient();
            await admin.PostAsync("cancelBackfill", new JsonObject { ["id"] = first });
        }
        finally
        {
            fixture.GovernancePds.Always = null;
        }
    }

    [Fact]
    public async Task A_freshness_scan_started_from_its_card_checks_the_tier_chosen()
    {
        await using var session = await OpenAsync("freshness-tier");
        var page = session.Page;
        await SignInAsync(page);
        using var admin = fixture.CreateAdminClient();

        await Card(page, "freshnessScan").GetByLabel("Tier").SelectOptionAsync("background");
        var id = await StartAsync(page, "freshnessScan", "Started");
        var done = await admin.WaitForEndAsync(id);

        Assert.Equal(("completed", "background"), (done.Status(), done.Meta("tier")));
        await Expect(page.Locator($"#history #op-{id}")).ToHaveAttributeAsync("data-status", "completed", new() { Timeout = 15_000 });
        await session.ScreenshotAsync("freshness-tier");
    }

    [Fact]
    public async Task A_citation_extraction_started_from_its_card_with_a_URI_extracts_that_eprint_only()
    {
        await using var session = await OpenAsync("citation-uri");
        var page = session.Page;
        await SignInAsync(page);
        using var admin = fixture.CreateAdminClient();
        const string uri = "at://did:plc:aaaaaaaaaaaaaaaaaaaaaaaa/pub.chive.eprint.submission/3k2aaaaaaaa2a";

        await Card(page, "citationExtraction").GetByLabel("Eprint URI (optional)").FillAsync(uri);
        var id = await StartAsync(page, "citationExtraction", "Started");
        var done = await admin.WaitForEndAsync(id);

        // We hold no such eprint: the run says so, naming it.
        Assert.Equal(("failed", uri), (done.Status(), done.Meta("uri")));
        Assert.Contains($"NotFound: no live eprint {uri} is indexed", done["error"]!.GetValue<string>(), StringComparison.Ordinal);
        await Expect(page.Locator($"#history #op-{id}")).ToHaveAttributeAsync("data-status", "failed", new() { Timeout = 15_000 });
    }

    [Fact]
    public async Task An_invalid_DID_shows_the_validation_message_and_sends_nothing()
    {
        await using var session = await OpenAsync("invalid-did");
        var page = session.Page;
        await SignInAsync(page);
        var sent = 0;
        page.Request += (_, request) => sent += request.Url.Contains("triggerDIDSync", StringComparison.Ordinal) ? 1 : 0;

        var card = Card(page, "didSync");
        await card.GetByLabel("DID", new() { Exact = true }).FillAsync("did:plc:not-valid");
        await card.GetByRole(AriaRole.Button).ClickAsync();

        await Expect(card.Locator(".result")).ToContainTextAsync("Enter a did:plc");
        await Expect(card.GetByLabel("DID", new() { Exact = true })).ToHaveAttributeAsync("aria-invalid", "true");
        Assert.Equal(0, sent);
        await session.ScreenshotAsync("invalid-did");
    }

    [Fact]
    public async Task Polling_stops_while_the_tab_is_hidden_and_a_lost_connection_shows_a_banner_until_it_returns()
    {
        await using var session = await OpenAsync("polling");
        var page = session.Page;
        await SignInAsync(page);
        var polls = 0;
        page.Request += (_, request) => polls += request.Url.Contains("getBackfillStatus", StringComparison.Ordinal) ? 1 : 0;

        await page.WaitForTimeoutAsync(1200); // polls every 500 ms here
        Assert.True(polls >= 2, $"{polls} polls while visible");

        await page.EvaluateAsync("() => { Object.defineProperty(document, 'hidden', { configurable: true, get: () => true }); document.dispatchEvent(new Event('visibilitychange')); }");
        await page.WaitForTimeoutAsync(300);
        var hiddenFrom = polls;
        await page.WaitForTimeoutAsync(1500);
        Assert.Equal(hiddenFrom, polls);
        await page.EvaluateAsync("() => { Object.defineProperty(document, 'hidden', { configurable: true, get: () => false }); document.dispatchEvent(new Event('visibilitychange')); }");
        await page.WaitForTimeoutAsync(1200);
        Assert.True(polls > hiddenFrom, "polling did not resume when the tab became visible");

        // The network goes away: the page says so instead of freezing, and recovers by itself.
        session.Expect("net::ERR_FAILED");
        await page.RouteAsync("**/xrpc/**", route => route.AbortAsync());
        await Expect(page.Locator("#connection")).ToBeVisibleAsync();
        await session.ScreenshotAsync("connection-lost");
        await page.UnrouteAsync("**/xrpc/**");
        await Expect(page.Locator("#connection")).ToBeHiddenAsync();
    }

    [Fact]
    public async Task The_detail_view_shows_a_scans_PDSes_invalid_records_and_metadata_and_Run_again_starts_the_same_scan()
    {
        // A PDS of its own, holding one eprint and one a scan must reject.
        var pds = await fixture.Network.AddPdsAsync();
        var origin = pds.ToString().TrimEnd('/');
        var bad = ScanWorld.LexiconSubmission("x", null);
        bad["title"] = 42;
        var account = (await fixture.Network.SeedAsync(fixture.Network.PdsUrls.Count - 1, new SeedAccount("detail-view.test",
        [
            new SeedRecord(Submission, ScanWorld.LexiconSubmission("Shown in the detail view", null), "3kdetailgood1"),
            new SeedRecord(Submission, bad, "3kdetailbad01"),
        ])))[0];
        var badUri = $"at://{account.Did}/{Submission}/3kdetailbad01";
        await using var session = await OpenAsync("detail");
        var page = session.Page;
        await SignInAsync(page);

        await Card(page, "pdsScan").GetByLabel("PDS URL (optional)").FillAsync(origin);
        var id = await StartAsync(page, "pdsScan", "Started");
        await Expect(page.Locator($"#history #op-{id}")).ToHaveAttributeAsync("data-status", "completed", new() { Timeout = 60_000 });
        await page.GetByRole(AriaRole.Button, new() { Name = $"Details of PDS scan {id[..8]}" }).ClickAsync();

        await Expect(page.Locator("#detail-title")).ToContainTextAsync(id);
        await Expect(page.Locator("#detail-title")).ToBeFocusedAsync();
        var row = page.Locator($"#detail-pdses tr[data-pds='{origin}']");
        await Expect(row).ToContainTextAsync("completed");
        await Expect(row).ToContainTextAsync("active");
        await Expect(row.Locator("td[data-label='Chive records']")).ToHaveTextAsync("2"); // what the PDS holds, valid or not
        await Expect(page.Locator($"#detail-rejections tr[data-uri='{badUri}']")).ToContainTextAsync("submission: missing title");
        await Expect(page.Locator("#detail-rejections-note")).ToContainTextAsync("1 record this run could not index");
        await Expect(page.Locator("#detail-metadata tr[data-key=startedBy]")).ToContainTextAsync(ChiveAppFixture.AdminKeyLabel);
        await Expect(page.Locator("#detail-metadata tr[data-key=invalidRecords]")).ToContainTextAsync("1");
        await Expect(page.Locator("#detail-metadata tr[data-key=input]")).ToContainTextAsync(origin);
        await Expect(page.Locator("#detail-error")).ToBeHiddenAsync();
        await session.ScreenshotAsync("detail-view");
        await session.ScreenshotAsync("detail-panel", page.Locator("#detail")); // docs/images/admin-page-detail-view.png

        await page.GetByRole(AriaRole.Button, new() { Name = "Run again" }).ClickAsync();
        var result = page.Locator("#run-again-result");
        await Expect(result).ToContainTextAsync("Started again");
        var again = (await result.Locator("a").GetAttributeAsync("href"))!["#op-".Length..];
        Assert.NotEqual(id, again);
        using var admin = fixture.CreateAdminClient();
        var first = await admin.GetOperationAsync(id);
        var second = await admin.WaitForEndAsync(again);
        Assert.Equal(("pdsScan", "completed"), (second["type"]!.GetValue<string>(), second.Status()));
        Assert.Equal(first.Meta("pdsUrl"), second.Meta("pdsUrl"));
        Assert.Equal(first.Meta("input"), second.Meta("input"));

        // The link in the answer opens the new operation's details.
        await result.Locator("a").ClickAsync();
        await Expect(page.Locator("#detail-title")).ToContainTextAsync(again);
    }

    [Fact]
    public async Task The_detail_view_of_a_failed_operation_shows_its_error_says_so_when_the_database_cannot_be_read_and_empties_when_it_is_gone()
    {
        var store = await fixture.OperationStoreAsync();
        var id = Guid.NewGuid();
        Assert.True(await store.InsertAsync(new Chive.AdminApi.Operations.BackfillOperation
        {
            CorrelationId = id,
            CurrentState = "Failed",
            Type = "didSync",
            Scope = "did:plc:detailfailedaaaaaaaaaaaa",
            StartedAt = DateTimeOffset.UtcNow.AddMinutes(-2),
            CompletedAt = DateTimeOffset.UtcNow.AddMinutes(-1),
            Error = "the DID document of did:plc:detailfailedaaaaaaaaaaaa names no atproto PDS <script>alert(1)</script>",
            Metadata = new() { ["startedBy"] = "test", ["did"] = "did:plc:detailfailedaaaaaaaaaaaa", ["input"] = "{\"did\":\"did:plc:detailfailedaaaaaaaaaaaa\"}" },
        }));
        try
        {
            await using var session = await OpenAsync("detail-failed");
            var page = session.Page;
            await SignInAsync(page);
            await page.GetByRole(AriaRole.Button, new() { Name = $"Details of DID sync {id.ToString("D")[..8]}" }).ClickAsync();

            await Expect(page.Locator("#detail-op-error")).ToHaveTextAsync("the DID document of did:plc:detailfailedaaaaaaaaaaaa names no atproto PDS <script>alert(1)</script>");
            await Expect(page.Locator("#detail-pdses-block")).ToBeHiddenAsync();
            await Expect(page.Locator("#detail-rejections-block")).ToBeHiddenAsync();
            await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Run again" })).ToBeVisibleAsync();

            fixture.Postgres.Cut();
            try
            {
                // The next poll reads the details again: the operation still shows, and the page says what is missing.
                await Expect(page.Locator("#detail-error")).ToContainTextAsync("the database could not be read", new() { Timeout = 30_000 });
                await Expect(page.Locator("#detail-op-error")).ToBeVisibleAsync();
                await session.ScreenshotAsync("database-down");
            }
            finally
            {
                fixture.Postgres.Restore();
            }

            await Expect(page.Locator("#detail-error")).ToBeHiddenAsync(new() { Timeout = 30_000 });

            // Gone from the history while open: nothing of it stays on show, and it cannot be run again.
            session.Expect("the server responded with a status of 404");
            await store.DeleteAsync(id);
            await Expect(page.Locator("#detail-error")).ToContainTextAsync("no operation", new() { Timeout = 30_000 });
            await Expect(page.Locator("#detail-op-error")).ToHaveCountAsync(0);
            await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Run again" })).ToBeHiddenAsync();
            await page.GetByRole(AriaRole.Button, new() { Name = "Close" }).ClickAsync();
            await Expect(page.Locator("#detail")).ToBeHiddenAsync();
        }
        finally
        {
            await store.DeleteAsync(id);
        }
    }

    private const string Submission = "pub.chive.eprint.submission";

    private static ILocator Card(IPage page, string type) => page.Locator($"#cards .card[data-type={type}]");

    private static async Task SignInAsync(IPage page)
    {
        await page.GetByLabel("Operator key").FillAsync(ChiveAppFixture.AdminKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.Locator("#cards .card")).ToHaveCountAsync(6);
    }

    /// <summary>Clicks a card's button and returns the operation id from the answer's link.</summary>
    private static async Task<string> StartAsync(IPage page, string type, string expected)
    {
        var card = Card(page, type);
        await card.GetByRole(AriaRole.Button).ClickAsync();
        var result = card.Locator(".result");
        await Expect(result).ToContainTextAsync(expected);
        var href = await result.Locator("a").GetAttributeAsync("href");
        return href!["#op-".Length..];
    }

    private async Task<PageSession> OpenAsync(string name)
    {
        var url = new Uri(fixture.CreateClient(ResourceNames.AdminApi).BaseAddress!, "/admin/backfill");
        return await PageSession.OpenAsync(browser.Browser, url, name);
    }
}

/// <summary>One page in a fresh browser context; on dispose, fails the test if the page logged console errors.</summary>
public sealed class PageSession : IAsyncDisposable
{
    private readonly IBrowserContext _context;
    private readonly List<string> _errors = [];
    private readonly string _test;

    private PageSession(IBrowserContext context, IPage page, string test)
    {
        _context = context;
        Page = page;
        _test = test;
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                _errors.Add(message.Text);
            }
        };
        page.PageError += (_, error) => _errors.Add(error);
    }

    public IPage Page { get; }

    private readonly List<string> _expected = [];

    /// <summary>A console error the test causes on purpose (e.g. Chromium's line for a refused request).</summary>
    public void Expect(string text) => _expected.Add(text);

    public long BytesOnFirstLoad { get; private set; }

    public int RequestsOnFirstLoad { get; private set; }

    public static async Task<PageSession> OpenAsync(IBrowser browser, Uri url, string test)
    {
        var context = await browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 800 } });
        var page = await context.NewPageAsync();
        var session = new PageSession(context, page, test);
        var requests = new List<IRequest>();
        page.RequestFinished += (_, request) => requests.Add(request);
        await page.GotoAsync(url.ToString(), new() { WaitUntil = WaitUntilState.NetworkIdle });
        foreach (var request in requests.ToList())
        {
            var sizes = await request.SizesAsync();
            session.BytesOnFirstLoad += sizes.ResponseHeadersSize + sizes.ResponseBodySize;
        }

        session.RequestsOnFirstLoad = requests.Count;
        return session;
    }

    /// <summary>
    /// Saves a screenshot as a test artifact, .test-state/artifacts/screenshots/{test}-{name}.png: the full page, or only
    /// <paramref name="element"/>.
    /// </summary>
    public async Task ScreenshotAsync(string name, ILocator? element = null)
    {
        var directory = Path.Combine(BrowserFixture.ArtifactsDirectory, "screenshots");
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, $"{_test}-{name}.png");
        if (element is null)
        {
            await Page.ScreenshotAsync(new() { Path = path, FullPage = true });
        }
        else
        {
            await element.ScreenshotAsync(new() { Path = path });
        }
    }

    public async ValueTask DisposeAsync()
    {
        await ScreenshotAsync("last");
        await _context.CloseAsync();
        var unexpected = _errors.Where(e => !_expected.Any(x => e.Contains(x, StringComparison.Ordinal))).ToList();
        Assert.True(unexpected.Count == 0, "console errors on the page:\n" + string.Join("\n", unexpected));
    }
}

/// <summary>Debian's Chromium, launched once per test class through Playwright (its own browser download is not used).</summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public static string ChromiumPath => Environment.GetEnvironmentVariable("CHIVE_TEST_CHROMIUM") ?? "/usr/bin/chromium";

    public static string ArtifactsDirectory => Path.Combine(
        Environment.GetEnvironmentVariable("CHIVE_TEST_STATE") ?? Path.Combine(RepoPaths.Root, ".test-state"), "artifacts");

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"Chromium is not installed at {ChromiumPath}: run scripts/install-test-deps.sh (scripts/test.sh does).");
        }

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new() { ExecutablePath = ChromiumPath, Headless = true });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
    }
}
