namespace Chive.Testing;

public static class RepoPaths
{
    /// <summary>The repository root: the nearest folder above the test assembly that holds Chive.sln.</summary>
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Chive.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"Chive.sln not found above {AppContext.BaseDirectory}");
    }
}
