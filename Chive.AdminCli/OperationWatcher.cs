using System.Collections.Concurrent;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Chive.AdminCli;

/// <summary>
/// <c>--watch</c>: polls the AdminApi until the watched operations have finished — one given by id, or every operation
/// running (including those that start while watching) — and shows a live bar per operation with records/s and the
/// time left, then each one's outcome. A server that stops answering is asked again for
/// <see cref="GiveUpAfter"/> before the watch ends as unreachable (an AdminApi restart does not end it).
/// </summary>
public sealed class OperationWatcher(CliContext context, TimeSpan interval)
{
    public static readonly TimeSpan GiveUpAfter = TimeSpan.FromSeconds(60);

    private readonly Dictionary<string, Operation> _watched = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RateEstimate> _rates = new(StringComparer.Ordinal);
    private DateTimeOffset _lastAnswer;
    private string? _trouble;

    /// <summary>Watches until every watched operation has finished; the exit code is their outcome.</summary>
    public async Task<int> WatchAsync(string? id, CancellationToken cancellationToken)
    {
        _lastAnswer = context.Time.GetUtcNow();
        await PollAsync(id, cancellationToken);
        if (_watched.Count == 0)
        {
            if (context.Json)
            {
                context.Out.WriteLine(OperationViews.OperationsJson([]).ToJsonString());
            }
            else
            {
                context.Console.MarkupLine("No operation is running.");
            }

            return ExitCodes.Completed;
        }

        if (context.Json)
        {
            await JsonLinesAsync(id, cancellationToken);
        }
        else
        {
            await BarsAsync(id, cancellationToken);
            foreach (var operation in _watched.Values)
            {
                context.Console.MarkupLine(OperationViews.Outcome(operation));
            }
        }

        return ExitCodes.Of(_watched.Values.Select(o => o.Status));
    }

    private bool Finished => _watched.Values.All(o => !o.IsRunning);

    private async Task JsonLinesAsync(string? id, CancellationToken cancellationToken)
    {
        while (true)
        {
            context.Out.WriteLine(OperationViews.OperationsJson(_watched.Values).ToJsonString());
            if (Finished)
            {
                return;
            }

            await Task.Delay(interval, context.Time, cancellationToken);
            await PollOrWaitAsync(id, cancellationToken);
        }
    }

    private async Task BarsAsync(string? id, CancellationToken cancellationToken)
    {
        var figures = new ConcurrentDictionary<int, string>();
        await context.Console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new FiguresColumn(figures))
            .StartAsync(async progress =>
            {
                var bars = new Dictionary<string, ProgressTask>(StringComparer.Ordinal);
                while (true)
                {
                    foreach (var operation in _watched.Values)
                    {
                        if (!bars.TryGetValue(operation.Id, out var bar))
                        {
                            bars[operation.Id] = bar = progress.AddTask(Name(operation), maxValue: 100);
                        }

                        Show(bar, operation, figures);
                    }

                    if (Finished)
                    {
                        return;
                    }

                    progress.Refresh();
                    await Task.Delay(interval, context.Time, cancellationToken);
                    await PollOrWaitAsync(id, cancellationToken);
                }
            });
    }

    private void Show(ProgressTask bar, Operation operation, ConcurrentDictionary<int, string> figures)
    {
        var records = operation.RecordsProcessed.ToString("N0", CultureInfo.InvariantCulture);
        if (operation.IsRunning)
        {
            bar.Value = operation.Progress;
            var rate = _rates[operation.Id];
            var perSecond = rate.RecordsPerSecond is { } rps ? rps.ToString("N1", CultureInfo.InvariantCulture) : "–";
            var left = rate.TimeLeft is { } t ? OperationViews.Duration(t) : "–";
            figures[bar.Id] = $"{records} records · {perSecond} records/s · {left} left"
                + (_trouble is null ? "" : $" · [yellow]{TerminalText.Safe(_trouble)}[/]");
            return;
        }

        if (operation.Status == "completed")
        {
            bar.Value = 100;
        }

        bar.Description = $"{Name(operation)} {OperationViews.StatusMarkup(operation.Status)}";
        figures[bar.Id] = $"{records} records";
        bar.StopTask();
    }

    private static string Name(Operation operation) =>
        $"{TerminalText.Safe(operation.Type)} {TerminalText.Safe(operation.Id.Length > 8 ? operation.Id[..8] : operation.Id)}";

    /// <summary>One poll; a server that cannot be reached is noted and asked again until <see cref="GiveUpAfter"/>.</summary>
    private async Task PollOrWaitAsync(string? id, CancellationToken cancellationToken)
    {
        try
        {
            await PollAsync(id, cancellationToken);
            _trouble = null;
        }
        catch (AdminCliException e) when (e.ExitCode == ExitCodes.Unreachable && context.Time.GetUtcNow() - _lastAnswer < GiveUpAfter)
        {
            _trouble = "the AdminApi is not answering; asking again";
        }
    }

    private async Task PollAsync(string? id, CancellationToken cancellationToken)
    {
        if (id is not null)
        {
            Note(await context.Client.GetOperationAsync(id, cancellationToken));
        }
        else
        {
            var running = await context.Client.ListOperationsAsync("running", cancellationToken);
            foreach (var operation in running)
            {
                Note(operation);
            }

            // Those that were running and are no longer listed as running have finished: their final state, one by one.
            var ended = _watched.Values.Where(o => o.IsRunning && running.All(r => r.Id != o.Id)).Select(o => o.Id).ToList();
            foreach (var endedId in ended)
            {
                Note(await context.Client.GetOperationAsync(endedId, cancellationToken));
            }
        }

        _lastAnswer = context.Time.GetUtcNow();
    }

    private void Note(Operation operation)
    {
        _watched[operation.Id] = operation;
        if (!_rates.TryGetValue(operation.Id, out var rate))
        {
            _rates[operation.Id] = rate = new RateEstimate();
        }

        rate.Add(context.Time.GetUtcNow(), operation.RecordsProcessed, operation.Progress);
    }

    /// <summary>The figures of one bar: records, records/s, time left (markup, set by the watcher).</summary>
    private sealed class FiguresColumn(ConcurrentDictionary<int, string> figures) : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Markup(figures.TryGetValue(task.Id, out var text) ? text : "");
    }
}
