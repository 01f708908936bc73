using Chive.Bench;

// Benchmarks print a table; they assert nothing about time. Run through scripts/bench.sh (it starts the servers).
return args switch
{
    ["pds-scan", .. var rest] => await PdsScanBenchmark.RunAsync(rest),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: scripts/bench.sh pds-scan [--accounts N] [--records-per-account N]");
    return 2;
}
