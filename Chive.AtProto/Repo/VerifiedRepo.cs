using Chive.AtProto.Identifiers;

namespace Chive.AtProto.Repo;

/// <summary>
/// One record read from a verified repo: where it is, its CID, and its value as the JSON text of the data model (an
/// object) — or, when its block (whose CID matched, so its owner signed it) is not a record the data model can hold,
/// null and the <see cref="Problem"/>: the owner's own poison, one rejected record, not a repo that failed verification.
/// </summary>
public sealed record RepoRecord(string Collection, string Rkey, string Cid, string? Json, string? Problem = null);

/// <summary>A repo whose commit was signed by its DID's key: its revision, commit CID, and the records asked for.</summary>
public sealed record VerifiedRepo(Did Did, string Rev, string CommitCid, IReadOnlyList<RepoRecord> Records);

/// <summary>Why a repo was not believed (a reason for the log and the operation's count).</summary>
public sealed class RepoVerificationException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>
    /// Whether the PDS that served the repo is to blame. Not when the account's DID document is (no <c>#atproto</c> key, or
    /// a document that could not be read again): its controller, not the PDS, made the repo unverifiable.
    /// </summary>
    public bool ChargesPds { get; init; } = true;
}
