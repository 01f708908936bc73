using System.ComponentModel.DataAnnotations;

namespace Chive.Storage;

/// <summary>Settings under <c>Database</c>.</summary>
public sealed class DatabaseOptions
{
    public const string SectionName = "Database";

    /// <summary>Apply the schema migrations at start-up (default true). Turn off when a release job applies them.</summary>
    public bool MigrateOnStart { get; set; } = true;

    /// <summary>How long start-up keeps retrying to reach PostgreSQL for the migrations before it gives up (default 60 s).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan MigrationTimeout { get; set; } = TimeSpan.FromSeconds(60);
}
