namespace Chive.AtProto.Identifiers;

public enum IdentifierKind
{
    Did,
    Handle,
    Nsid,
    RecordKey,
    AtUri,
    Cid,
}

/// <summary>Input that is not a valid atproto identifier of the expected kind; <see cref="Reason"/> says what is wrong.</summary>
public sealed class InvalidIdentifierException(IdentifierKind kind, string? input, string reason)
    : FormatException($"Invalid {Describe(kind)} '{Shorten(input)}': {reason}")
{
    public IdentifierKind Kind { get; } = kind;

    public string? Input { get; } = input;

    public string Reason { get; } = reason;

    private static string Describe(IdentifierKind kind) => kind switch
    {
        IdentifierKind.Did => "DID",
        IdentifierKind.Handle => "handle",
        IdentifierKind.Nsid => "NSID",
        IdentifierKind.RecordKey => "record key",
        IdentifierKind.AtUri => "AT-URI",
        IdentifierKind.Cid => "CID",
        _ => kind.ToString(),
    };

    private static string Shorten(string? input) =>
        input is null ? "(null)" : input.Length <= 120 ? input : input[..117] + "...";
}
