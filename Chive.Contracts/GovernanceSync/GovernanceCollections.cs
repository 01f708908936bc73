namespace Chive.Contracts.GovernanceSync;

/// <summary>The two collections a governance sync reads, in this order.</summary>
public static class GovernanceCollections
{
    public const string Node = "pub.chive.graph.node";
    public const string Edge = "pub.chive.graph.edge";
}
