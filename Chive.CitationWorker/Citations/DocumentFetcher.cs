using Chive.AtProto.Identifiers;
using Chive.AtProto.Identity;
using Chive.AtProto.Xrpc;
using Microsoft.Extensions.Options;

namespace Chive.CitationWorker.Citations;

/// <summary>How fetching an eprint's document ended.</summary>
public enum DocumentOutcome
{
    /// <summary>The PDF is in <see cref="FetchedDocument.File"/>.</summary>
    Fetched,

    /// <summary>The PDS says it does not have it (the blob, the repo, the account): nothing to read.</summary>
    Missing,

    /// <summary>We could not get it now (DID not resolvable, PDS unreachable, too large, refused by the SSRF guard).</summary>
    Unavailable,
}

/// <summary>A fetched document (dispose it: the temporary file is deleted), or why there is none.</summary>
public sealed record FetchedDocument(DocumentOutcome Outcome, FileStream? File, string? Reason) : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        if (File is not null)
        {
            await File.DisposeAsync();
        }
    }
}

/// <summary>
/// An eprint's PDF, with <c>com.atproto.sync.getBlob</c> from the PDS that the DID document of the eprint's repo names
/// (the repo that holds the record holds the blob). Through the AT Protocol client: SSRF guard, per-host manners,
/// timeout. Streamed into a temporary file that is deleted when closed — the document is held once, on disk, never in
/// memory — and cut off at <c>Citations:MaxPdfBytes</c>. The file is what GROBID is sent, again after each 503.
/// </summary>
public sealed class DocumentFetcher(XrpcClient xrpc, DidResolver resolver, IOptions<CitationOptions> options, ILogger<DocumentFetcher> logger)
{
    public async Task<FetchedDocument> FetchAsync(EprintToExtract eprint, CancellationToken cancellationToken)
    {
        if (!Cid.TryParse(eprint.DocumentBlobCid, out var cid, out var error))
        {
            return new FetchedDocument(DocumentOutcome.Missing, null, $"the document's blob CID is not valid: {error}");
        }

        Uri pds;
        try
        {
            pds = (await resolver.ResolveAsync(eprint.Repo, cancellationToken)).PdsEndpoint;
        }
        catch (DidResolutionException ex)
        {
            return new FetchedDocument(DocumentOutcome.Unavailable, null, ex.Message);
        }

        var path = Path.Combine(Path.GetTempPath(), $"chive-document-{Guid.NewGuid():N}.pdf");
        var file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 81920, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        try
        {
            await using (var blob = await xrpc.GetBlobAsync(pds, eprint.Repo, cid, cancellationToken))
            {
                var buffer = new byte[81920];
                int read;
                while ((read = await blob.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    if (file.Length + read > options.Value.MaxPdfBytes)
                    {
                        await file.DisposeAsync();
                        return new FetchedDocument(DocumentOutcome.Unavailable, null, $"the document is larger than Citations:MaxPdfBytes ({options.Value.MaxPdfBytes} bytes)");
                    }

                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }
            }

            await file.FlushAsync(cancellationToken);
            file.Position = 0;
            return new FetchedDocument(DocumentOutcome.Fetched, file, null);
        }
        catch (XrpcException ex)
        {
            await file.DisposeAsync();
            var missing = ex.Kind is XrpcErrorKind.BlobNotFound or XrpcErrorKind.RepoNotFound or XrpcErrorKind.RepoTakendown
                or XrpcErrorKind.RepoDeactivated or XrpcErrorKind.RepoSuspended or XrpcErrorKind.RecordNotFound
                || ex.HttpStatus == 404
                // The reference PDS answers a blob it does not have with 400 InvalidRequest "Blob not found", not the
                // lexicon's BlobNotFound.
                || (ex.Kind == XrpcErrorKind.InvalidRequest && ex.ServerMessage.Contains("not found", StringComparison.OrdinalIgnoreCase));
            logger.LogInformation("Document of {Uri} not fetched: {Reason}", eprint.Uri, ex.Message);
            return new FetchedDocument(missing ? DocumentOutcome.Missing : DocumentOutcome.Unavailable, null, ex.Message);
        }
        catch
        {
            await file.DisposeAsync();
            throw;
        }
    }
}
