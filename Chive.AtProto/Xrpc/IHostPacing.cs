namespace Chive.AtProto.Xrpc;

/// <summary>
/// A per-host pace shared by every process that reads from the same hosts — worker replicas and the two workers that
/// both fetch from PDSes — so the rate a PDS sees does not grow with the number of processes. Each request reserves
/// the next free slot of its host (rate and burst as <see cref="XrpcOptions"/> give them) and waits until it.
/// </summary>
public interface IHostPacing
{
    /// <summary>
    /// Reserves a slot for one request to <paramref name="host"/> and returns how long to wait before sending it; or, when
    /// the next free slot is more than <paramref name="maxWait"/> away, reserves nothing and returns null (a refusal that
    /// takes no slot, so callers turned away never push the host's queue further out).
    /// </summary>
    ValueTask<TimeSpan?> ReserveAsync(string host, double requestsPerSecond, int burst, TimeSpan maxWait, CancellationToken cancellationToken);
}
