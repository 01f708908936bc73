using Chive.Contracts.FreshnessScan;
using Chive.ScanWorker.FreshnessScan;

namespace Chive.UnitTests.Scanning;

/// <summary>
/// The tiers' windows, checked on a grid of record ages and times since the last check (the SQL in StaleRepos applies the
/// same bounds; the integration tests run them against PostgreSQL): the four timed tiers never overlap, "due" is exactly
/// their union, and "all" takes everything.
/// </summary>
public sealed class FreshnessWindowTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    private static readonly string[] Timed = [FreshnessTiers.Urgent, FreshnessTiers.Recent, FreshnessTiers.Normal, FreshnessTiers.Background];

    public static TheoryData<FreshnessOptions> Settings() => new()
    {
        new FreshnessOptions(),
        new FreshnessOptions { NewFor = TimeSpan.FromHours(12), UrgentAfter = TimeSpan.FromHours(1), RecentAfter = TimeSpan.FromHours(3) },
        new FreshnessOptions { UrgentAfter = TimeSpan.FromHours(8), RecentAfter = TimeSpan.FromHours(2) },
    };

    [Theory]
    [MemberData(nameof(Settings))]
    public void The_timed_tiers_are_disjoint_and_due_is_their_union(FreshnessOptions options)
    {
        foreach (var (indexed, synced) in Grid())
        {
            var tiers = Timed.Where(t => Contains(options.WindowFor(t, Now), indexed, synced)).ToList();
            Assert.True(tiers.Count <= 1, $"indexed {Now - indexed} ago, checked {Now - synced} ago: in {string.Join(", ", tiers)}");
            Assert.Equal(tiers.Count == 1, Contains(options.WindowFor(FreshnessTiers.Due, Now), indexed, synced));
            Assert.True(Contains(options.WindowFor(FreshnessTiers.All, Now), indexed, synced));
        }
    }

    [Theory]
    [InlineData(2, 7, FreshnessTiers.Urgent)] // new, unchecked for 7 h
    [InlineData(2, 5, null)] // new, checked 5 h ago: not due yet
    [InlineData(48, 7, FreshnessTiers.Recent)]
    [InlineData(48, 30, FreshnessTiers.Normal)]
    [InlineData(400, 24 * 8, FreshnessTiers.Background)]
    [InlineData(400, 1, null)]
    public void With_the_defaults_a_record_falls_in_the_tier_the_docs_give(int indexedHoursAgo, int checkedHoursAgo, string? tier)
    {
        var options = new FreshnessOptions();
        var indexed = Now.AddHours(-indexedHoursAgo);
        var synced = Now.AddHours(-checkedHoursAgo);
        Assert.Equal(tier, Timed.SingleOrDefault(t => Contains(options.WindowFor(t, Now), indexed, synced)));
    }

    private static IEnumerable<(DateTimeOffset Indexed, DateTimeOffset Synced)> Grid()
    {
        for (var indexedHours = 0; indexedHours <= 24 * 10; indexedHours += 1)
        {
            for (var syncedHours = 0; syncedHours <= indexedHours; syncedHours += 1)
            {
                yield return (Now.AddHours(-indexedHours), Now.AddHours(-syncedHours));
            }
        }
    }

    /// <summary>The bounds as StaleRepos's SQL reads them.</summary>
    private static bool Contains(FreshnessWindow window, DateTimeOffset indexed, DateTimeOffset synced) =>
        window.Any.Any(b =>
            (b.IndexedAfter is null || indexed > b.IndexedAfter)
            && (b.IndexedBefore is null || indexed <= b.IndexedBefore)
            && (b.SyncedBefore is null || synced < b.SyncedBefore)
            && (b.SyncedAfter is null || synced >= b.SyncedAfter));
}
