namespace Chive.CitationWorker.Citations;

/// <summary>What one eprint's lookups cost: requests sent to each service, answers taken from the cache, ids unknown, failures.</summary>
public sealed class LookupTally
{
    private long _s2Lookups, _s2NotFound, _crossrefLookups, _cacheHits, _failures;

    public long S2Lookups => Interlocked.Read(ref _s2Lookups);

    public long S2NotFound => Interlocked.Read(ref _s2NotFound);

    public long CrossrefLookups => Interlocked.Read(ref _crossrefLookups);

    public long CacheHits => Interlocked.Read(ref _cacheHits);

    /// <summary>Lookups that could not be made (the service kept failing): the extraction is incomplete and tried again next run.</summary>
    public long Failures => Interlocked.Read(ref _failures);

    public void S2Lookup() => Interlocked.Increment(ref _s2Lookups);

    public void S2Unknown() => Interlocked.Increment(ref _s2NotFound);

    public void CrossrefLookup() => Interlocked.Increment(ref _crossrefLookups);

    public void CacheHit(int count = 1) => Interlocked.Add(ref _cacheHits, count);

    public void Failure() => Interlocked.Increment(ref _failures);
}
