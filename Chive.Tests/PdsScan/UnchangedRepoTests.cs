using Chive.Contracts.Indexing;
using Chive.Tests.Infrastructure;

namespace Chive.Tests.PdsScan;

/// <summary>
/// When the IndexWorker records a repo's commit as verified — the only state that lets a PDS scan confirm the repo
/// without reading it: the read said so, and every batch of records and sweeps it names is in the ledger. A batch that
/// never lands (a fault, a crash that lost it) leaves the commit unverified after <c>Ledger:RepoBatchesWait</c>, so the
/// next scan reads the repo whole; a later confirmation of the same commit (a freshness scan's listing) keeps it
/// verified, another commit does not.
/// </summary>
[Collection(ChiveAppCollection.Name)]
public sealed class UnchangedRepoTests(ChiveAppFixture fixture)
{
    private ScanDatabase Db => new(fixture.DatabaseConnectionString);

    [Fact]
    public async Task A_commit_is_recorded_verified_only_when_every_batch_of_its_read_is_in_the_ledger()
    {
        var operation = Guid.NewGuid();
        var (landed, lost) = (Guid.NewGuid(), Guid.NewGuid());
        await Db.ExecuteAsync("INSERT INTO operation_batches (operation_id, batch_id) VALUES (@op, @batch)", ("op", operation), ("batch", landed));
        var (complete, incomplete) = ($"did:plc:{Guid.NewGuid():N}"[..32], $"did:plc:{Guid.NewGuid():N}"[..32]);
        const string cid = "bafyreib2rxk3rh6kzwq4pf4jbnfg7mq4hcqcbrqgd4dvsolzmqbfkzyxuy";

        await fixture.PublishAsync(new RepoSynced(operation, Guid.NewGuid(),
        [
            new SyncedRepo(complete, "https://pds.example", "3kaaaaaaaaaa2", cid, Unchanged: false, Verified: true, Batches: [landed]),
            new SyncedRepo(incomplete, "https://pds.example", "3kaaaaaaaaaa2", cid, Unchanged: false, Verified: true, Batches: [landed, lost]),
        ]));

        Assert.True(await VerifiedAsync(complete, TimeSpan.FromSeconds(60)));
        Assert.False(await VerifiedAsync(incomplete, TimeSpan.FromSeconds(60))); // after waiting for the lost batch

        // A listing's confirmation of the same commit keeps it verified; another commit (or another PDS) does not.
        await fixture.PublishAsync(new RepoSynced(operation, Guid.NewGuid(),
            [new SyncedRepo(complete, "https://pds.example", "3kaaaaaaaaaa2", cid, Unchanged: true)]));
        await WaitForLedgerAsync(operation, 3);
        Assert.True(await VerifiedAsync(complete, TimeSpan.FromSeconds(1)));
        await fixture.PublishAsync(new RepoSynced(operation, Guid.NewGuid(),
            [new SyncedRepo(complete, "https://pds.example", "3kaaaaaaaaaa3", "bafyreianothercommitcid", Unchanged: true)]));
        await WaitForLedgerAsync(operation, 4);
        Assert.False(await VerifiedAsync(complete, TimeSpan.FromSeconds(1)));
    }

    /// <summary>The recorded state's verified flag, once the state exists (waiting up to <paramref name="timeout"/>).</summary>
    private async Task<bool> VerifiedAsync(string did, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (true)
        {
            var rows = await Db.ScalarAsync<long>("SELECT count(*) FROM repo_sync_state WHERE did = @d", ("d", did));
            if (rows == 1)
            {
                return await Db.ScalarAsync<bool>("SELECT verified FROM repo_sync_state WHERE did = @d", ("d", did));
            }

            Assert.True(DateTime.UtcNow < until, $"no state recorded for {did}");
            await Task.Delay(100);
        }
    }

    /// <summary>Waits until the operation's ledger holds <paramref name="rows"/> batches (the test's own, then each RepoSynced applied).</summary>
    private async Task WaitForLedgerAsync(Guid operation, long rows)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (await Db.ScalarAsync<long>("SELECT count(*) FROM operation_batches WHERE operation_id = @op", ("op", operation)) < rows)
        {
            Assert.True(DateTime.UtcNow < until, $"the ledger of {operation} did not reach {rows} batches");
            await Task.Delay(100);
        }
    }
}
