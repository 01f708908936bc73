using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Chive.AtProto.Identifiers;
using Chive.AtProto.Net;
using Chive.AtProto.Xrpc;
using Microsoft.Extensions.Logging;

namespace Chive.AtProto.Identity;

/// <summary>
/// Resolves <c>did:plc</c> (through the configured PLC directory) and <c>did:web</c> (<c>/.well-known/did.json</c> on
/// the named host) to the PDS, handle and signing key. Fetches go through <see cref="PoliteHttp"/> (per-host rate
/// limit, timeout, single retry layer, SSRF guard). Results are cached for <see cref="IdentityOptions.CacheTtl"/>,
/// failures for <see cref="IdentityOptions.FailureCacheTtl"/>; concurrent resolutions of one DID share one fetch.
/// <para>
/// With an <see cref="IDidDocumentCache"/> (the workers: PostgreSQL), a document one process fetched serves every other
/// while it is younger than <see cref="IdentityOptions.CacheTtl"/> — parsed and checked again by each, as a fresh one
/// is — so replicas ask the PLC directory once between them, not once each. A document forgotten here
/// (<see cref="Invalidate"/>) is fetched from its source, not from the shared cache, until a fetch from the source
/// succeeds; that document replaces what the shared cache held. Should the shared cache fail or not answer, this process
/// resolves alone for <see cref="ResolveAloneFor"/> and the failure is logged; failures to resolve are not shared (each
/// process learns them from the source).
/// </para>
/// </summary>
public sealed class DidResolver(
    PoliteHttp http, SsrfGuard guard, IdentityOptions options, TimeProvider time, IDidDocumentCache? shared = null, ILogger? logger = null)
{
    /// <summary>How long this process resolves alone after the shared cache failed, before asking it again.</summary>
    public static readonly TimeSpan ResolveAloneFor = TimeSpan.FromSeconds(30);

    public const string ResolvePlc = "did.resolvePlc";
    public const string ResolveWeb = "did.resolveWeb";

    private readonly ConcurrentDictionary<string, CacheEntry> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<ResolvedIdentity>>> _inflight = new(StringComparer.Ordinal);

    /// <summary>DIDs forgotten here: resolved from the source, past the shared cache, until that succeeds.</summary>
    private readonly ConcurrentDictionary<string, byte> _pastShared = new(StringComparer.Ordinal);

    /// <summary>Until when (UTC ticks) this process resolves without the shared cache.</summary>
    private long _aloneUntil;

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

    /// <summary>
    /// Forgets what is known of <paramref name="did"/> (e.g. after its PDS said the repo moved): the next resolution asks
    /// the source — not the shared cache, which may hold the same stale document, and not a resolution already under way,
    /// which may be reading it.
    /// </summary>
    public void Invalidate(Did did)
    {
        if (shared is not null)
        {
            if (_pastShared.Count >= options.CacheSize)
            {
                _pastShared.Clear(); // bounded: at worst such a DID is read once more from the shared cache
            }

            _pastShared[did.Value] = 0;
        }

        _inflight.TryRemove(did.Value, out _);
        _cache.TryRemove(did.Value, out _);
    }

    private async Task<ResolvedIdentity> FetchAndCacheAsync(Did did)
    {
        try
        {
            // Not the caller's token: the fetch is shared by every caller waiting for this DID. Its own deadline instead.
            using var deadline = new CancellationTokenSource(options.ResolveTimeout, time);
            ResolvedIdentity identity;
            DateTimeOffset expires;
            string? fetched = null;
            try
            {
                if (await FromSharedAsync(did, deadline.Token) is { } known)
                {
                    (identity, expires) = known;
                }
                else
                {
                    using var document = await FetchAsync(did, deadline.Token);
                    identity = await CheckAsync(did, document.RootElement, deadline.Token);
                    expires = time.GetUtcNow() + options.CacheTtl;
                    fetched = document.RootElement.GetRawText();
                }
            }
            catch (OperationCanceledException ex) when (deadline.IsCancellationRequested)
            {
                throw new DidResolutionException(did, DidResolutionError.Unreachable, $"no answer within {options.ResolveTimeout.TotalSeconds:0.###} s", ex);
            }

            Store(did, new CacheEntry(expires, identity, null));
            if (fetched is not null)
            {
                _pastShared.TryRemove(did.Value, out _); // read from its source: what the shared cache holds of it is older
                await ShareAsync(did, fetched);
            }

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

    /// <summary>
    /// The shared cache's document of <paramref name="did"/>, checked as a fresh one, and until when it may be used (never
    /// later than <see cref="IdentityOptions.CacheTtl"/> after it was fetched); null when there is none to use.
    /// </summary>
    private async Task<(ResolvedIdentity Identity, DateTimeOffset Expires)?> FromSharedAsync(Did did, CancellationToken cancellationToken)
    {
        if (shared is null || options.CacheTtl <= TimeSpan.Zero || _pastShared.ContainsKey(did.Value)
            || Interlocked.Read(ref _aloneUntil) > time.GetUtcNow().UtcTicks)
        {
            return null;
        }

        var asked = time.GetUtcNow();
        (string Document, TimeSpan Remaining)? hit;
        try
        {
            hit = await shared.GetAsync(did.Value, options.CacheTtl, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            ResolveAlone(ex);
            return null;
        }

        if (hit is not { } found)
        {
            return null;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(found.Document, new JsonDocumentOptions { MaxDepth = PoliteHttp.MaxResponseDepth });
        }
        catch (JsonException)
        {
            return null; // not what a resolver stored: fetched again, and replaced
        }

        using (document)
        {
            return (await CheckAsync(did, document.RootElement, cancellationToken), asked + found.Remaining);
        }
    }

    /// <summary>
    /// After the resolution, which stands whatever happens here: not on the resolution's deadline (the store has its own
    /// timeout), and a store that fails only makes this process resolve alone for a while.
    /// </summary>
    private async Task ShareAsync(Did did, string document)
    {
        if (shared is null || options.CacheTtl <= TimeSpan.Zero || Interlocked.Read(ref _aloneUntil) > time.GetUtcNow().UtcTicks)
        {
            return;
        }

        try
        {
            await shared.SetAsync(did.Value, document, options.CacheTtl, CancellationToken.None);
        }
        catch (Exception ex)
        {
            ResolveAlone(ex);
        }
    }

    /// <summary>Not asked again for a while: a cache that hangs must not add its timeout to every resolution.</summary>
    private void ResolveAlone(Exception ex)
    {
        Interlocked.Exchange(ref _aloneUntil, (time.GetUtcNow() + ResolveAloneFor).UtcTicks);
        logger?.LogWarning(ex, "The shared DID document cache failed: this process resolves DIDs alone for the next {Seconds} s", ResolveAloneFor.TotalSeconds);
    }

    /// <summary>The document of <paramref name="did"/> from its source (the PLC directory, or the did:web host).</summary>
    private async Task<JsonDocument> FetchAsync(Did did, CancellationToken cancellationToken)
    {
        var (url, method) = did.Method switch
        {
            DidMethod.Plc => (new Uri($"{options.PlcDirectoryUrl.GetLeftPart(UriPartial.Path).TrimEnd('/')}/{did.Value}"), ResolvePlc),
            _ => (new Uri($"{options.DidWebScheme}://{did.WebHost}/.well-known/did.json"), ResolveWeb),
        };

        try
        {
            return await http.GetJsonAsync(url, method, cancellationToken, options.MaxDocumentBytes);
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
    }

    /// <summary>What a document says (parsed and checked: its PDS endpoint must pass the SSRF guard), wherever it came from.</summary>
    private async Task<ResolvedIdentity> CheckAsync(Did did, JsonElement document, CancellationToken cancellationToken)
    {
        var identity = DidDocument.Parse(did, document);
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
