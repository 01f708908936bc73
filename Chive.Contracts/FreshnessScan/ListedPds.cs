namespace Chive.Contracts.FreshnessScan;

/// <summary>
/// A PDS whose stale repos' revisions a freshness scan reads from <c>listRepos</c> (one page per 1,000 of its repos)
/// rather than one <c>getLatestCommit</c> per repo, because that is fewer requests; at most <paramref name="MaxPages"/>
/// pages (its size at its last scan, and one more), so a PDS that lists for ever costs no more than it said it would.
/// </summary>
public sealed record ListedPds(string PdsUrl, int MaxPages);
