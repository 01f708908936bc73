namespace Chive.AtProto.Xrpc;

/// <summary>What went wrong with an XRPC call, as a caller needs to branch on it.</summary>
public enum XrpcErrorKind
{
    /// <summary>400 <c>RecordNotFound</c> (the reference PDS answers a missing record with 400, not 404), or 404 on getRecord.</summary>
    RecordNotFound,
    RepoNotFound,
    RepoTakendown,
    RepoDeactivated,
    RepoSuspended,
    BlobNotFound,
    InvalidRequest,
    /// <summary>Another 4xx with an XRPC error name we do not model; see <see cref="XrpcException.ErrorName"/>.</summary>
    OtherClientError,
    /// <summary>429 after the retries, or a wait longer than <see cref="XrpcOptions.MaxRateLimitWait"/>.</summary>
    RateLimited,
    /// <summary>5xx after the retries.</summary>
    ServerError,
    Timeout,
    /// <summary>Connection refused, reset, DNS failure: the host is not reachable.</summary>
    Unreachable,
    /// <summary>This host failed repeatedly; its circuit is open and no request was sent.</summary>
    CircuitOpen,
    /// <summary>The body is not the JSON the method returns.</summary>
    MalformedResponse,
    /// <summary>The body is larger than the configured cap.</summary>
    ResponseTooLarge,
    /// <summary>The SSRF guard refused the URL (forbidden scheme or address).</summary>
    Refused,
}

/// <summary>A failed XRPC call: the method, the host, the kind of failure and what the server said.</summary>
public sealed class XrpcException(
    XrpcErrorKind kind,
    string method,
    string host,
    string message,
    int? httpStatus = null,
    string? errorName = null,
    Exception? inner = null)
    : Exception($"{method} on {host}: {kind}{(httpStatus is null ? "" : $" (HTTP {httpStatus})")}: {message}", inner)
{
    public XrpcErrorKind Kind { get; } = kind;

    public string Method { get; } = method;

    public string Host { get; } = host;

    public int? HttpStatus { get; } = httpStatus;

    /// <summary>The <c>error</c> field of the XRPC error body, when there was one.</summary>
    public string? ErrorName { get; } = errorName;

    public string ServerMessage { get; } = message;

    /// <summary>Failures of the host, not of the request: worth backing off from and counting against the PDS.</summary>
    public bool IsHostFailure => Kind is XrpcErrorKind.ServerError or XrpcErrorKind.Timeout or XrpcErrorKind.Unreachable
        or XrpcErrorKind.CircuitOpen or XrpcErrorKind.RateLimited;

    /// <summary>The repo is gone or not serving (taken down, deactivated, suspended, not found).</summary>
    public bool IsRepoUnavailable => Kind is XrpcErrorKind.RepoNotFound or XrpcErrorKind.RepoTakendown
        or XrpcErrorKind.RepoDeactivated or XrpcErrorKind.RepoSuspended;
}
