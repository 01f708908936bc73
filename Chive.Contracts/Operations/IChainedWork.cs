namespace Chive.Contracts.Operations;

/// <summary>
/// A unit of work that is one link of a chain: the <see cref="Position"/>-th unit of <see cref="Chain"/> in its
/// operation (a scan lane, a reindex, a governance sync, or <see cref="StartChain"/> for an operation's first unit).
/// A unit runs only at its chain's current position and moves the chain on before it sends its successor, so a
/// duplicated unit never forks the chain (see <c>OperationChains</c> in Chive.Messaging).
/// </summary>
public interface IChainedWork : IOperationWork
{
    /// <summary>The chain of an operation's first unit of work: a start sent twice starts once.</summary>
    public const string StartChain = "start";

    string Chain { get; }

    int Position { get; }
}
