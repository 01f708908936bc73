using Chive.Testing;
using Microsoft.Extensions.Logging;

namespace Chive.Tests.Infrastructure;

/// <summary>
/// Appends every log line to one file, so the services' own output under test (forwarded by Aspire) is kept for
/// reading after a failure without flooding the test console. Files go to <c>$CHIVE_TEST_STATE/logs/</c>.
/// </summary>
public sealed class FileLoggerProvider : ILoggerProvider
{
    private readonly StreamWriter _writer;
    private readonly Lock _gate = new();

    public FileLoggerProvider(string name)
    {
        var folder = System.IO.Path.Combine(Environment.GetEnvironmentVariable("CHIVE_TEST_STATE") ?? System.IO.Path.Combine(RepoPaths.Root, ".test-state"), "logs");
        Directory.CreateDirectory(folder);
        FilePath = System.IO.Path.Combine(folder, $"{name}-{DateTime.UtcNow:HHmmss}-{Guid.NewGuid():N}"[..(name.Length + 16)] + ".log");
        _writer = new StreamWriter(File.Open(FilePath, FileMode.Create, FileAccess.Write, FileShare.Read)) { AutoFlush = true };
    }

    public string FilePath { get; }

    public ILogger CreateLogger(string categoryName) => new FileLogger(this, categoryName);

    public void Dispose()
    {
        lock (_gate)
        {
            _writer.Dispose();
        }
    }

    private void Write(string category, LogLevel level, string message, Exception? exception)
    {
        lock (_gate)
        {
            try
            {
                _writer.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {level,-11} {category}: {message}");
                if (exception is not null)
                {
                    _writer.WriteLine(exception);
                }
            }
            catch (ObjectDisposedException)
            {
                // logging after the fixture ended
            }
        }
    }

    private sealed class FileLogger(FileLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            provider.Write(category, logLevel, formatter(state, exception), exception);
    }
}
