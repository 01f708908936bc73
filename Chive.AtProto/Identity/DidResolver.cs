using System.Collections.Concurrent;
using System.Net;
using Chive.AtProto.Identifiers;
using Chive.AtProto.Net;
using Chive.AtProto.Xrpc;

namespace Chive.AtProto.Identity;

/// <summary>
/// Resolves <c>did:plc</c> (through the configured PLC directory) and <c>did:web</c> (<c>/.well-known/did.json</c> on
/// the named host) to the PDS, handle and signing key. Fetches go through <see cref="PoliteHttp"/> (per-host rate
/// limit, timeout, single retry layer, SSRF guard). Results are cached for <see cref="IdentityOptions.CacheTtl"/>,
/// failures for <see cref="IdentityOptions.FailureCacheTtl"/>; concurrent resolutions of one DID share one fetch.
/// </summary>
public sealed class DidResolver(PoliteHttp http, SsrfGuard guard, IdentityOptions options, TimeProvider time)
{
    public const string ResolvePlc = "did.resolvePlc";
    public const string ResolveWeb = "did.resolveWeb";

    private readonly ConcurrentDictionary<string, CacheEntry> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<ResolvedIdentity>>> _inflight = new(StringComparer.Ordinal);

    public async Task<ResolvedIdentity> ResolveAsync(Did did, CancellationToken cancellationToken = default)
    {
        if (_cache.TryGetValue(did.Value, out var cached) && cached.Expires > time.GetUtcNow())
        {
            return cached.Identity ?? throw cached.Error!;
        }

        var fetch = _inflight.GetOrAdd(did.Value, _ => new Lazy<Task<ResolvedIdentity>>(() => FetchAndCacheAsync(did)));
        try
        {
            return await fetch.Value.WaitAsync(cancellationToken);
        }
        finally
        {
            if (fetch.Value.IsCompleted)
            {
                _inflight.TryRemove(new KeyValuePair<string, Lazy<Task<ResolvedIdentity>>>(did.Value, fetch));
            }
        }
    }

    /// <summary>Forgets what is known of <paramref name="did"/> (e.g. after its PDS said the repo moved).</summary>
    public void Invalidate(Did did) => _cache.TryRemove(did.Value, out _);

    private async Task<ResolvedIdentity> FetchAndCacheAsync(Did did)
    {
        try
        {
            // Not the caller's token: the fetch is shared by every caller waiting for this DID. Its own deadline instead.
            using var deadline = new CancellationTokenSource(options.ResolveTimeout, time);
            ResolvedIdentity identity;
            try
            {
                identity = await FetchAsync(did, deadline.Token);
            }
            catch (OperationCanceledException ex) when (deadline.IsCancellationRequested)
            {
                throw new DidResolutionException(did, DidResolutionError.Unreachable, $"no answer within {options.ResolveTimeout.TotalSeconds:0.###} s", ex);
            }

            Store(did, new CacheEntry(time.GetUtcNow() + options.CacheTtl, identity, null));
            return identity;
        }
        catch (DidResolutionException ex)
        {
            Store(did, new CacheEntry(time.GetUtcNow() + options.FailureCacheTtl, null, ex));
            throw;
        }
        finally
        {
            _inflight.TryRemove(did.Value, out _);
        }
    }

    private async Task<ResolvedIdentity> FetchAsync(Did did, CancellationToken cancellationToken)
    {
        var (url, method) = did.Method switch
        {
            DidMethod.Plc => (new Uri($"{options.PlcDirectoryUrl.GetLeftPart(UriPartial.Path).TrimEnd('/')}/{did.Value}"), ResolvePlc),
            _ => (new Uri($"{options.DidWebScheme}://{did.WebHost}/.well-known/did.json"), ResolveWeb),
        };

        ResolvedIdentity identity;
        try
        {
            using var document = await http.GetJsonAsync(url, method, cancellationToken, options.MaxDocumentBytes);
            identity = DidDocument.Parse(did, document.RootElement);
        }
        catch (XrpcException ex)
        {
            throw new DidResolutionException(did, ex.Kind switch
            {
                _ when ex.HttpStatus == (int)HttpStatusCode.NotFound => DidResolutionError.NotFound,
                _ when ex.HttpStatus == (int)HttpStatusCode.Gone => DidResolutionError.Deactivated,
                XrpcErrorKind.Refused => DidResolutionError.Refused,
                XrpcErrorKind.MalformedResponse or XrpcErrorKind.ResponseTooLarge => DidResolutionError.MalformedDocument,
                _ => DidResolutionError.Unreachable,
            }, $"{url.GetLeftPart(UriPartial.Authority)} answered: {ex.ServerMessage}", ex);
        }

        try
        {
            await guard.CheckAsync(identity.PdsEndpoint, cancellationToken);
        }
        catch (SsrfRefusedException ex)
        {
            throw new DidResolutionException(did, DidResolutionError.Refused, $"its PDS endpoint {identity.PdsEndpoint} is refused: {ex.Message}", ex);
        }
        catch (HttpRequestException ex)
        {
            throw new DidResolutionException(did, DidResolutionError.Unreachable, $"its PDS endpoint {identity.PdsEndpoint} does not resolve: {ex.Message}", ex);
        }

        return identity;
    }

    private void Store(Did did, CacheEntry entry)
    {
        if (_cache.Count >= options.CacheSize)
        {
            var now = time.GetUtcNow();
            foreach (var (key, value) in _cache)
            {
                if (value.Expires <= now || _cache.Count >= options.CacheSize)
                {
                    _cache.TryRemove(key, out _);
                }
            }
        }

        _cache[did.Value] = entry;
    }

    private sealed record CacheEntry(DateTimeOffset Expires, ResolvedIdentity? Identity, DidResolutionException? Error);
}
