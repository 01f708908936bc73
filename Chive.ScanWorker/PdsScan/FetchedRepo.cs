using Chive.AtProto.Repo;
using Chive.AtProto.Xrpc;

namespace Chive.ScanWorker.PdsScan;

/// <summary>
/// What the requests of a verified read of one repo found (<see cref="RepoReader.FetchAsync"/>), kept until the unit
/// applies it in page order (<see cref="RepoReader.ApplyAsync"/>): a failed request's error in place of its answer, so
/// the failure counts where a one-at-a-time read would have met it. <see cref="Host"/> is null when the repo names no
/// Chive collection (nothing more was asked).
/// </summary>
public sealed record FetchedRepo
{
    /// <summary>Requests sent to the PDS (<c>describeRepo</c>, then <c>getRepo</c>): fewer when the budget stopped them.</summary>
    public int Sent { get; init; }

    public XrpcException? DescribeError { get; init; }

    public IReadOnlyList<string> Collections { get; init; } = [];

    public HostCheck? Host { get; init; }

    public DateTimeOffset ListedFrom { get; init; }

    public XrpcException? GetRepoError { get; init; }

    public RepoVerificationException? Unverified { get; init; }

    public VerifiedRepo? Repo { get; init; }

    /// <summary>Stopwatch timestamps: started, described, resolved, fetched (for the breakdown log line).</summary>
    public (long Started, long Described, long Resolved, long Fetched) Timings { get; init; }
}

/// <summary>
/// What a repo's DID document says about the PDS that listed it: names it (<see cref="Hosted"/>), names another
/// (<see cref="Home"/>), or could not be resolved (<see cref="Unresolved"/>, the error).
/// </summary>
public readonly record struct HostCheck(bool Hosted, string? Home = null, string? Unresolved = null);
