namespace Chive.AdminCli;

/// <summary>A call that did not succeed, with the exit code that says why and a message for the operator.</summary>
public sealed class AdminCliException(int exitCode, string message, Exception? inner = null) : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;
}
