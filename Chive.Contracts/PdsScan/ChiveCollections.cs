namespace Chive.Contracts.PdsScan;

/// <summary>
/// The <c>pub.chive.*</c> record collections (the 22 record lexicons). A scan reads every
/// <c>pub.chive.*</c> collection a repo's <c>describeRepo</c> names — these and any later one — never a hand-picked subset.
/// </summary>
public static class ChiveCollections
{
    public const string Namespace = "pub.chive";

    public static IReadOnlyList<string> Known { get; } =
    [
        "pub.chive.eprint.submission", "pub.chive.eprint.version", "pub.chive.eprint.changelog", "pub.chive.eprint.citation",
        "pub.chive.eprint.relatedWork", "pub.chive.eprint.userTag", "pub.chive.review.comment", "pub.chive.review.endorsement",
        "pub.chive.review.entityLink", "pub.chive.annotation.comment", "pub.chive.annotation.entityLink", "pub.chive.graph.node",
        "pub.chive.graph.edge", "pub.chive.graph.nodeProposal", "pub.chive.graph.edgeProposal", "pub.chive.graph.vote",
        "pub.chive.graph.reconciliation", "pub.chive.actor.profile", "pub.chive.actor.mute", "pub.chive.discovery.settings",
        "pub.chive.collaboration.invite", "pub.chive.collaboration.inviteAcceptance",
    ];

    public static bool IsChive(string collection) => collection.StartsWith(Namespace + ".", StringComparison.Ordinal);
}
