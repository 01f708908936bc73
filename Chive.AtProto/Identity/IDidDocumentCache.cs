namespace Chive.AtProto.Identity;

/// <summary>
/// DID documents shared by every process that resolves DIDs — worker replicas each resolved and cached them on their own,
/// so a repo's document was fetched again by whichever replica read it next (the PLC directory asked once per replica,
/// and each replica cold where another was warm). Holds each document's JSON exactly as it was fetched and checked,
/// until it expires; a reader parses and checks it again, as it would a fresh one.
/// </summary>
public interface IDidDocumentCache
{
    /// <summary>The document of <paramref name="did"/> and how long it is still valid, or null (none, or expired).</summary>
    ValueTask<(string Document, TimeSpan Remaining)?> GetAsync(string did, CancellationToken cancellationToken);

    /// <summary>Stores (or replaces) the document of <paramref name="did"/> for <paramref name="lifetime"/>.</summary>
    ValueTask SetAsync(string did, string document, TimeSpan lifetime, CancellationToken cancellationToken);
}
