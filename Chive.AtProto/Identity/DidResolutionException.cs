using Chive.AtProto.Identifiers;

namespace Chive.AtProto.Identity;

public enum DidResolutionError
{
    /// <summary>The directory or host has no document for this DID (404).</summary>
    NotFound,
    /// <summary>The DID was tombstoned / deactivated at the directory (410).</summary>
    Deactivated,
    /// <summary>The document is not a JSON DID document.</summary>
    MalformedDocument,
    /// <summary>The document's <c>id</c> is another DID.</summary>
    WrongId,
    /// <summary>The document names no atproto PDS (service <c>#atproto_pds</c> of type <c>AtprotoPersonalDataServer</c>).</summary>
    NoPdsEndpoint,
    /// <summary>The directory or did:web host could not be reached or failed (timeouts, 5xx, rate limits).</summary>
    Unreachable,
    /// <summary>The SSRF guard refused the did:web host, or the PDS endpoint the document names.</summary>
    Refused,
}

/// <summary>Why a DID could not be resolved to a usable atproto identity.</summary>
public sealed class DidResolutionException(Did did, DidResolutionError error, string message, Exception? inner = null)
    : Exception($"Cannot resolve {did}: {error}: {message}", inner)
{
    public Did Did { get; } = did;

    public DidResolutionError Error { get; } = error;
}
