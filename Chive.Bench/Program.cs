using Chive.Bench;

// Benchmarks print a table; they assert nothing about time. Run through scripts/bench.sh (it starts the servers).
return args switch
{
    ["all", .. var rest] => await AllAsync(rest),
    ["pds-scan", .. var rest] => await PdsScanBenchmark.RunAsync(rest),
    ["scale-out", .. var rest] => await ScaleOutBenchmark.RunAsync(rest),
    ["reindex", .. var rest] => await ReindexBenchmark.RunAsync(rest),
    ["freshness", .. var rest] => await FreshnessBenchmark.RunAsync(rest),
    ["citations", .. var rest] => await CitationBenchmark.RunAsync(rest),
    ["service-auth", .. var rest] => await ServiceAuthBenchmark.RunAsync(rest),
    ["idle", .. var rest] => await IdleBenchmark.RunAsync(rest),
    ["chive-pattern", var connectionString, var esUrl] => await ReindexBenchmark.RunChivePatternAsync(connectionString, esUrl),
    ["search-double"] => await ReindexBenchmark.RunSearchDoubleAsync(),
    _ => Usage(),
};

// Every benchmark behind issue 17's targets, one after the other (each prints its own table), then one table of the
// headline ratios against their targets.
static async Task<int> AllAsync(string[] args)
{
    foreach (var run in new Func<Task<int>>[]
    {
        () => PdsScanBenchmark.RunAsync(["--mode", "verified", .. args]),
        () => ReindexBenchmark.RunAsync(args),
        () => ScaleOutBenchmark.RunAsync(args),
    })
    {
        if (await run() is not 0 and var failed)
        {
            return failed;
        }

        Console.WriteLine();
    }

    BenchSummary.Print();
    return 0;
}

static int Usage()
{
    Console.Error.WriteLine("usage: scripts/bench.sh all (pds-scan in verified mode, reindex, scale-out; then one table of the ratios)");
    Console.Error.WriteLine("       scripts/bench.sh pds-scan [--accounts N] [--records-per-account N] [--posts-per-account N] [--mode verified|listing|both] [--repeat N (3)] [--set Name=Value]… [--breakdown]");
    Console.Error.WriteLine("       scripts/bench.sh reindex [--eprints N] [--batch-size N] [--set Name=Value]… [--ours-only]");
    Console.Error.WriteLine("       scripts/bench.sh scale-out [--pdses N] [--replicas N] [--latency-ms N] [--accounts-per-pds N] [--records-per-account N] [--repeat N (3)] [--set Name=Value]…");
    Console.Error.WriteLine("       scripts/bench.sh freshness [--repos N] [--records-per-repo N] [--changed-percent N] [--latency-ms N] [--ours-only] [--set Name=Value]…");
    Console.Error.WriteLine("       scripts/bench.sh citations [--eprints N] [--references N] [--crossref-per-eprint N] [--s2-rate N] [--grobid-ms N]");
    Console.Error.WriteLine("       scripts/bench.sh service-auth [--calls N]");
    Console.Error.WriteLine("       scripts/bench.sh idle [--seconds N (20)] [--replicas N (1)] [--set Name=Value]…");
    return 2;
}
