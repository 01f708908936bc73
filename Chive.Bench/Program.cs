using Chive.Bench;

// Benchmarks print a table; they assert nothing about time. Run through scripts/bench.sh (it starts the servers).
return args switch
{
    ["pds-scan", .. var rest] => await PdsScanBenchmark.RunAsync(rest),
    ["reindex", .. var rest] => await ReindexBenchmark.RunAsync(rest),
    ["freshness", .. var rest] => await FreshnessBenchmark.RunAsync(rest),
    ["citations", .. var rest] => await CitationBenchmark.RunAsync(rest),
    ["service-auth", .. var rest] => await ServiceAuthBenchmark.RunAsync(rest),
    ["chive-pattern", var connectionString, var esUrl] => await ReindexBenchmark.RunChivePatternAsync(connectionString, esUrl),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: scripts/bench.sh pds-scan [--accounts N] [--records-per-account N] [--posts-per-account N] [--mode verified|listing|both] [--set Name=Value]… [--breakdown]");
    Console.Error.WriteLine("       scripts/bench.sh reindex [--eprints N] [--batch-size N]");
    Console.Error.WriteLine("       scripts/bench.sh freshness [--repos N] [--records-per-repo N] [--changed-percent N]");
    Console.Error.WriteLine("       scripts/bench.sh citations [--eprints N] [--references N] [--crossref-per-eprint N] [--s2-rate N] [--grobid-ms N]");
    Console.Error.WriteLine("       scripts/bench.sh service-auth [--calls N]");
    return 2;
}
