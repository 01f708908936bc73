namespace Chive.CitationWorker.Extraction;

/// <summary>An author of a cited work as the reference list names them; <paramref name="FirstName"/> holds every forename in order.</summary>
public sealed record CitedAuthor(string? FirstName, string LastName);
