namespace Chive.Contracts.Indexing;

/// <summary>
/// One record as a PDS listed it: its AT-URI, its CID and its JSON value, verbatim — or, when the scanner could not take
/// it (larger than its cap), an empty value and the <paramref name="Problem"/>, so the IndexWorker counts and lists it
/// as rejected.
/// </summary>
public sealed record FetchedRecord(string Uri, string Cid, string Value, string? Problem = null);
