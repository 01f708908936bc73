using System.Data.Common;
using EvolveDb;
using EvolveDb.Dialect;
using EvolveDb.Migration;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Chive.Storage;

/// <summary>
/// Applies the SQL files under <c>Migrations/</c> (embedded, named <c>V&lt;version&gt;__&lt;description&gt;.sql</c>) with
/// Evolve. Evolve holds a PostgreSQL advisory lock while it migrates (cluster mode), so services starting together
/// apply each file exactly once; the journal is the table <c>public.schema_migrations</c>.
/// </summary>
public sealed class DatabaseMigrator(NpgsqlDataSource dataSource, ILogger<DatabaseMigrator> logger)
{
    public const string JournalTable = "schema_migrations";

    /// <summary>
    /// Applies pending migrations; returns how many were applied by this call. <paramref name="upTo"/> (a version, e.g.
    /// "12.0"): only that far — a database as an earlier release left it, for the tests of a later migration.
    /// </summary>
    public async Task<int> MigrateAsync(CancellationToken cancellationToken, string? upTo = null)
    {
        await using DbConnection connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var evolve = new Evolve(connection, message => logger.LogDebug("Evolve: {EvolveMessage}", message), DBMS.PostgreSQL)
        {
            EmbeddedResourceAssemblies = [typeof(DatabaseMigrator).Assembly],
            EmbeddedResourceFilters = ["Chive.Storage.Migrations"],
            MetadataTableName = JournalTable,
            EnableClusterMode = true,
            IsEraseDisabled = true,
            OutOfOrder = false,
            CommandTimeout = 120,
        };
        if (upTo is not null)
        {
            evolve.TargetVersion = new MigrationVersion(upTo);
        }

        // Evolve is synchronous; keep it off the caller's thread.
        await Task.Run(evolve.Migrate, cancellationToken);
        return evolve.NbMigration;
    }
}
