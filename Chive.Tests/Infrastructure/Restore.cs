namespace Chive.Tests.Infrastructure;

/// <summary>Puts something shared (a proxy, a double's setting) back as it was when the test ends, however it ends.</summary>
public sealed class Restore(Action undo) : IDisposable
{
    public void Dispose() => undo();
}
