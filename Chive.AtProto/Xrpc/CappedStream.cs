namespace Chive.AtProto.Xrpc;

/// <summary>
/// A read-only view of a response body that fails with a typed error once more than its cap has been read, or when a
/// read waits longer than <paramref name="idleTimeout"/> for data (a body that stalls after its headers); a broken
/// connection is a typed <see cref="XrpcErrorKind.Unreachable"/>. Disposing it also disposes <paramref name="owner"/>
/// (the HTTP response the body belongs to), when given.
/// </summary>
internal sealed class CappedStream(Stream inner, long cap, string method, string host, TimeSpan idleTimeout, IDisposable? owner = null) : Stream
{
    private long _read;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => _read;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (idleTimeout != Timeout.InfiniteTimeSpan)
        {
            idle.CancelAfter(idleTimeout);
        }

        try
        {
            return Count(await inner.ReadAsync(buffer, idle.Token));
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new XrpcException(XrpcErrorKind.Timeout, method, host, $"the body stalled: no data for {idleTimeout.TotalSeconds:0.###} s", inner: ex);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            throw new XrpcException(XrpcErrorKind.Unreachable, method, host, $"the body broke off: {ex.Message}", inner: ex);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
            owner?.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync();
        owner?.Dispose();
        await base.DisposeAsync();
    }

    private int Count(int read)
    {
        _read += read;
        if (_read > cap)
        {
            throw new XrpcException(XrpcErrorKind.ResponseTooLarge, method, host, $"the body is larger than the cap of {cap} bytes");
        }

        return read;
    }
}
