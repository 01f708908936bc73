namespace Chive.Contracts.Indexing;

/// <summary>One record as a PDS listed it: its AT-URI, its CID and its JSON value, verbatim.</summary>
public sealed record FetchedRecord(string Uri, string Cid, string Value);
