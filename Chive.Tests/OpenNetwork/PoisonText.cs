namespace Chive.Tests.OpenNetwork;

/// <summary>Text the poison tests need.</summary>
internal static class PoisonText
{
    /// <summary>Text that does not compress, so PostgreSQL cannot squeeze it into an index row (a DOI of this size is refused).</summary>
    public static string Incompressible(int length, int seed = 42)
    {
        var random = new Random(seed);
        const string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        return new string(Enumerable.Range(0, length).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());
    }
}
