using Chive.Contracts.Operations;

namespace Chive.AdminApi.Operations;

/// <summary>Which operations a listing returns: all of them, the finished ones (history), or those of one status.</summary>
public readonly record struct OperationFilter
{
    private OperationFilter(string value) => Value = value;

    /// <summary>The filter as the listing script compares it (<c>all</c>, <c>finished</c> or a status).</summary>
    public string Value { get; }

    public static OperationFilter All { get; } = new("all");

    /// <summary>Every operation that is not running: the history.</summary>
    public static OperationFilter Finished { get; } = new("finished");

    public static OperationFilter WithStatus(string status) =>
        BackfillStatus.All.Contains(status) ? new(status) : throw new ArgumentOutOfRangeException(nameof(status), status, "not an operation status");
}
