using Chive.Contracts;

namespace Chive.AdminApi.OperationTypes;

/// <summary>The registered operation types by name; a type of the API without a descriptor has no worker yet.</summary>
public sealed class OperationTypeRegistry
{
    /// <summary>Why a type without a descriptor cannot be triggered (listBackfillTypes, 501 answers, the page).</summary>
    public const string NoWorkerReason = "no worker handles this type yet";

    private readonly Dictionary<string, IOperationType> _byName;

    public OperationTypeRegistry(IEnumerable<IOperationType> registered)
    {
        _byName = registered.ToDictionary(t => t.Name, StringComparer.Ordinal);
        if (_byName.Keys.FirstOrDefault(name => !BackfillOperationType.IsKnown(name)) is { } unknown)
        {
            throw new InvalidOperationException($"operation type '{unknown}' is not one of {string.Join(", ", BackfillOperationType.All)}");
        }
    }

    /// <summary>The descriptor of <paramref name="name"/>, or null when the type is unknown or has no worker yet.</summary>
    public IOperationType? Find(string name) => _byName.GetValueOrDefault(name);

    public bool IsAvailable(string name) => _byName.ContainsKey(name);

    /// <summary>The descriptor of a running operation's type; it was available when the operation was triggered.</summary>
    public IOperationType Get(string name) =>
        Find(name) ?? throw new InvalidOperationException($"no descriptor is registered for '{name}' operations");
}
