namespace Chive.AtProto.Identity;

/// <summary>
/// DID documents shared by every process that resolves DIDs — worker replicas each resolved and cached them on their own,
/// so a repo's document was fetched again by whichever replica read it next (the PLC directory asked once per replica,
/// and each replica cold where another was warm). Holds each document's JSON exactly as it was fetched and checked, and
/// when; a reader parses and checks it again, as it would a fresh one.
/// </summary>
public interface IDidDocumentCache
{
    /// <summary>
    /// The document of <paramref name="did"/> if it was fetched less than <paramref name="maxAge"/> ago (the reader's own
    /// cache lifetime), and how much of that age is left; or null.
    /// </summary>
    ValueTask<(string Document, TimeSpan Remaining)?> GetAsync(string did, TimeSpan maxAge, CancellationToken cancellationToken);

    /// <summary>Stores (or replaces) the document of <paramref name="did"/>, fetched now; kept at least <paramref name="keep"/>.</summary>
    ValueTask SetAsync(string did, string document, TimeSpan keep, CancellationToken cancellationToken);
}
