namespace Chive.AdminCli;

/// <summary>
/// Records per second and the time left of one operation, from what the watcher has seen of it over the last
/// <see cref="Window"/>: recent enough to follow a change of pace, long enough not to jump with each poll.
/// The time left follows the progress percentage (what the operation itself says of its total), not the records.
/// </summary>
public sealed class RateEstimate
{
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(15);

    private readonly Queue<(DateTimeOffset At, long Records, int Progress)> _samples = new();

    public void Add(DateTimeOffset at, long records, int progress)
    {
        if (_samples.Count > 0 && at <= _samples.Last().At)
        {
            return;
        }

        _samples.Enqueue((at, records, progress));
        while (_samples.Count > 2 && at - _samples.Peek().At > Window)
        {
            _samples.Dequeue();
        }
    }

    /// <summary>Null until two samples at least a second apart.</summary>
    public double? RecordsPerSecond => Span() is var (first, last, seconds) ? Math.Max(0, last.Records - first.Records) / seconds : null;

    /// <summary>Null while the progress has not moved inside the window (or has gone back).</summary>
    public TimeSpan? TimeLeft
    {
        get
        {
            if (Span() is not var (first, last, seconds) || last.Progress <= first.Progress)
            {
                return null;
            }

            var perSecond = (last.Progress - first.Progress) / seconds;
            return TimeSpan.FromSeconds(Math.Min((100 - last.Progress) / perSecond, TimeSpan.FromDays(99).TotalSeconds));
        }
    }

    private ((DateTimeOffset At, long Records, int Progress) First, (DateTimeOffset At, long Records, int Progress) Last, double Seconds)? Span()
    {
        if (_samples.Count < 2)
        {
            return null;
        }

        var first = _samples.Peek();
        var last = _samples.Last();
        var seconds = (last.At - first.At).TotalSeconds;
        return seconds >= 1 ? (first, last, seconds) : null;
    }
}
