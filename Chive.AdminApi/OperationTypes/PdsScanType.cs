using System.Text.Json.Nodes;
using Chive.AdminApi.Operations;
using Chive.AtProto.Net;
using Chive.Contracts;
using Chive.Contracts.PdsScan;
using MassTransit;

namespace Chive.AdminApi.OperationTypes;

/// <summary>
/// PDS scan: <c>{}</c> scans the due PDSes (scope <c>*</c>); <c>{pdsUrl}</c> scans that one PDS (scope = its origin), so a
/// scan of one PDS neither waits for nor blocks a scan of the due PDSes. A <c>pdsUrl</c> whose host is (or resolves to)
/// an address the SSRF guard forbids is refused at once; one that does not resolve (yet) is accepted — the scan
/// records it as unreachable. <c>force</c> (either way) reads every repo whole, even one whose PDS lists the verified
/// commit recorded for it — which the scan otherwise confirms without reading (<c>PdsScan:SkipUnchangedRepos</c>).
/// </summary>
public sealed class PdsScanType(SsrfGuard guard) : IOperationType
{
    public const string PdsUrl = "pdsUrl";

    public const string Force = "force";

    /// <summary>How long the trigger waits for the host's address before accepting it unchecked (the scan checks it again).</summary>
    private static readonly TimeSpan ResolveTimeout = TimeSpan.FromSeconds(3);

    public string Name => BackfillOperationType.PdsScan;

    public string InputHint =>
        "the body must be {} or {\"pdsUrl\": \"https://pds.example\"} (a PDS origin, http(s)://host[:port], without a path), " +
        "with \"force\": true|false if wanted";

    public async ValueTask<InputCheck> CheckInputAsync(JsonObject input, CancellationToken cancellationToken)
    {
        var url = InputFields.String(input, PdsUrl);
        var force = InputFields.Boolean(input, Force);
        if (!force.IsValid)
        {
            return InputCheck.Refuse();
        }

        var metadata = new Dictionary<string, string>();
        if (force.IsPresent && force.Value)
        {
            metadata[Force] = "true";
        }

        if (!url.IsPresent)
        {
            return InputCheck.Accept(OperationInput.Everything, metadata);
        }

        if (!url.IsValid || !Uri.TryCreate(url.Value, UriKind.Absolute, out var uri) || !ServiceOrigin.TryNormalize(uri, out var origin))
        {
            return InputCheck.Refuse();
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ResolveTimeout);
        try
        {
            await guard.CheckAsync(uri, timeout.Token); // as written: a legacy IPv4 spelling is refused before it is canonicalised
        }
        catch (SsrfRefusedException ex)
        {
            return InputCheck.Refuse($"{origin} is not a PDS this service may read: {ex.Message}");
        }
        catch (Exception ex) when (ex is HttpRequestException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // Not resolvable now: the scan will try, and record the PDS as unreachable if it still is not.
        }

        metadata[PdsUrl] = origin;
        return InputCheck.Accept(origin, metadata);
    }

    public Task StartAsync(IPublishEndpoint publish, BackfillOperation operation) =>
        publish.Publish(new StartPdsScan(
            operation.CorrelationId, operation.Metadata.GetValueOrDefault(PdsUrl), Force: operation.Metadata.GetValueOrDefault(Force) == "true"));
}
