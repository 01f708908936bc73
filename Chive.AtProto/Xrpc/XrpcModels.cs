using System.Text.Json;
using Chive.AtProto.Identifiers;

namespace Chive.AtProto.Xrpc;

/// <summary>One repo of <c>com.atproto.sync.listRepos</c>. <see cref="Status"/> says why an inactive repo is inactive.</summary>
public sealed record RepoEntry(Did Did, string? Head, string? Rev, bool Active, string? Status);

/// <summary>A page of repos; <see cref="InvalidEntries"/> counts entries dropped for an invalid DID.</summary>
public sealed record ListReposPage(IReadOnlyList<RepoEntry> Repos, string? Cursor, int InvalidEntries);

/// <summary>One host a relay subscribes to (<c>com.atproto.sync.listHosts</c>): its name and the relay's word on it.</summary>
public sealed record RelayHost(string Hostname, string? Status);

public sealed record ListHostsPage(IReadOnlyList<RelayHost> Hosts, string? Cursor, int InvalidEntries);

/// <summary><c>com.atproto.repo.describeRepo</c>: which collections the repo holds tells whether it has any Chive data.</summary>
public sealed record RepoDescription(Did Did, string? Handle, bool HandleIsCorrect, IReadOnlyList<Nsid> Collections, JsonElement? DidDocument);

/// <summary>One record: its AT-URI, CID and value (the raw JSON, detached from any document).</summary>
public sealed record RecordEntry(AtUri Uri, Cid Cid, JsonElement Value);

/// <summary>
/// A page of <c>com.atproto.repo.listRecords</c>: the records of the repo and collection asked for.
/// <see cref="InvalidEntries"/> counts records dropped for a bad URI, CID or value; <see cref="ForeignEntries"/> records
/// dropped because their URI names another repo or collection than the one asked for.
/// </summary>
public sealed record ListRecordsPage(IReadOnlyList<RecordEntry> Records, string? Cursor, int InvalidEntries, int ForeignEntries = 0)
{
    /// <summary>Every entry of the page was a record of the repo and collection asked for.</summary>
    public bool IsClean => InvalidEntries == 0 && ForeignEntries == 0;

    public int Entries => Records.Count + InvalidEntries + ForeignEntries;
}

/// <summary><c>com.atproto.sync.getLatestCommit</c>: the repo's current commit CID and revision (a TID, which only grows).</summary>
public sealed record LatestCommit(Cid Cid, string Rev)
{
    /// <summary>A revision as we accept one from a PDS: a TID is 13 base32 characters; anything not short and alphanumeric is not one.</summary>
    public static bool IsRev([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? rev) => rev is { Length: > 0 and <= 64 } && rev.All(char.IsAsciiLetterOrDigit);
}
