namespace Chive.AdminCli;

/// <summary>
/// What <c>chive-admin</c> exits with, so a script can tell the outcomes apart without reading the output. A command
/// that watches an operation exits with that operation's outcome; any other command with whether the call succeeded.
/// </summary>
public static class ExitCodes
{
    /// <summary>The call succeeded; a watched operation completed.</summary>
    public const int Completed = 0;

    /// <summary>A fault of chive-admin itself (System.CommandLine's handler of an unexpected exception).</summary>
    public const int Internal = 1;

    /// <summary>The command line was wrong: an unknown command or option, a missing argument, a bad value.</summary>
    public const int Usage = 2;

    /// <summary>The operation failed (its error is printed).</summary>
    public const int Failed = 3;

    /// <summary>The operation was cancelled.</summary>
    public const int Cancelled = 4;

    /// <summary>
    /// The server answered and refused: no or a wrong operator key (401/403), an input it does not accept (400), an
    /// operation it does not have (404), a type without a worker (501), a cancel of a finished operation.
    /// </summary>
    public const int Refused = 5;

    /// <summary>No usable answer: connection refused, DNS, a timeout, a 5xx, or an answer that is not XRPC.</summary>
    public const int Unreachable = 6;

    /// <summary>Watching was stopped with Ctrl+C; the operation itself runs on.</summary>
    public const int Interrupted = 130;

    /// <summary>The exit code of an operation's status.</summary>
    public static int Of(string status) => status switch
    {
        "failed" => Failed,
        "cancelled" => Cancelled,
        _ => Completed,
    };

    /// <summary>The exit code of several watched operations: any failure first, then any cancellation.</summary>
    public static int Of(IEnumerable<string> statuses)
    {
        var all = statuses.ToList();
        return all.Contains("failed") ? Failed : all.Contains("cancelled") ? Cancelled : Completed;
    }
}
