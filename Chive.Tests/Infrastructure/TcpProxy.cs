using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Chive.Tests.Infrastructure;

/// <summary>
/// A TCP forwarder on a loopback port in front of a real server, so a test can take that server "down" for the
/// services under test — <see cref="Cut"/> closes every open connection and refuses new ones — without stopping
/// the server the other tests share. <see cref="Restore"/> listens again on the same port.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly IPEndPoint _target;
    private readonly ConcurrentDictionary<Guid, (Socket Inbound, Socket Outbound)> _connections = new();
    private readonly Lock _gate = new();
    private TcpListener? _listener;
    private CancellationTokenSource? _accepting;

    private TcpProxy(IPEndPoint target)
    {
        _target = target;
        Port = Listen(0);
    }

    public int Port { get; }

    public bool IsCut { get; private set; }

    public static TcpProxy Start(string host, int port)
    {
        var address = IPAddress.TryParse(host, out var ip) ? ip : Dns.GetHostAddresses(host).First(a => a.AddressFamily == AddressFamily.InterNetwork);
        return new TcpProxy(new IPEndPoint(address, port));
    }

    /// <summary>Closes every forwarded connection and stops listening: clients see resets, then "connection refused".</summary>
    public void Cut()
    {
        lock (_gate)
        {
            IsCut = true;
            _accepting?.Cancel();
            _listener?.Stop();
            _listener = null;
        }

        foreach (var (id, pair) in _connections)
        {
            Close(pair);
            _connections.TryRemove(id, out _);
        }
    }

    public void Restore()
    {
        lock (_gate)
        {
            if (!IsCut)
            {
                return;
            }

            Listen(Port);
            IsCut = false;
        }
    }

    public ValueTask DisposeAsync()
    {
        Cut();
        return ValueTask.CompletedTask;
    }

    private int Listen(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        _listener = listener;
        _accepting = new CancellationTokenSource();
        _ = AcceptLoopAsync(listener, _accepting.Token);
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task AcceptLoopAsync(TcpListener listener, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            TcpClient inbound;
            try
            {
                inbound = await listener.AcceptTcpClientAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = ForwardAsync(inbound, cancellationToken);
        }
    }

    private async Task ForwardAsync(TcpClient inbound, CancellationToken cancellationToken)
    {
        var outbound = new TcpClient();
        var id = Guid.NewGuid();
        try
        {
            await outbound.ConnectAsync(_target, cancellationToken);
            _connections[id] = (inbound.Client, outbound.Client);
            using var both = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var up = inbound.GetStream().CopyToAsync(outbound.GetStream(), both.Token);
            var down = outbound.GetStream().CopyToAsync(inbound.GetStream(), both.Token);
            await Task.WhenAny(up, down);
            await both.CancelAsync();
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // A cut, or either side hung up: the connection ends, which is what the client must see.
        }
        finally
        {
            _connections.TryRemove(id, out _);
            inbound.Dispose();
            outbound.Dispose();
        }
    }

    private static void Close((Socket Inbound, Socket Outbound) pair)
    {
        foreach (var socket in new[] { pair.Inbound, pair.Outbound })
        {
            try
            {
                socket.LingerState = new LingerOption(true, 0); // reset, like a server that died
                socket.Close();
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // already closed
            }
        }
    }
}
