namespace Chive.AtProto.Xrpc;

/// <summary>
/// A read-only view of a response body that fails with a typed error once more than its cap has been read; disposing
/// it also disposes <paramref name="owner"/> (the HTTP response the body belongs to), when given.
/// </summary>
internal sealed class CappedStream(Stream inner, long cap, string method, string host, IDisposable? owner = null) : Stream
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

    public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Count(await inner.ReadAsync(buffer, cancellationToken));

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
