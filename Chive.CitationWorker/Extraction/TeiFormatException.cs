namespace Chive.CitationWorker.Extraction;

/// <summary>The reference service answered with something that is not a well-formed, DTD-free TEI document.</summary>
public sealed class TeiFormatException(string message, Exception? inner = null) : Exception(message, inner);
