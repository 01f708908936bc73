using System.Net;
using System.Net.Http.Headers;
using Chive.CitationWorker.Extensions;
using Chive.CitationWorker.Extraction;
using Microsoft.Extensions.Options;

namespace Chive.CitationWorker.Citations;

/// <summary>GROBID could not give a document's references (an error answer, no answer in time, a TEI we cannot read).</summary>
public sealed class GrobidException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// GROBID's <c>/api/processReferences</c>: the PDF as the multipart field <c>input</c>, <c>consolidateCitations=0</c> (we
/// consolidate ourselves, politely — GROBID's own consolidation hammers Crossref) and <c>includeRawCitations=1</c> (the
/// raw reference text). No more requests in flight than <c>Citations:Grobid:Concurrency</c>; 503 means GROBID's pool is
/// full: wait and send again, for up to <c>MaxBusyWait</c> — back-pressure, not a failure. 204 means no references.
/// <c>/api/isalive</c> is the health check's, never asked before a document.
/// </summary>
public sealed class GrobidClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly SemaphoreSlim _pool;
    private readonly GrobidOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<GrobidClient> _logger;

    public GrobidClient(IConfiguration configuration, IOptions<GrobidOptions> options, TimeProvider time, ILogger<GrobidClient> logger)
    {
        _options = options.Value;
        _time = time;
        _logger = logger;
        _pool = new SemaphoreSlim(_options.Concurrency, _options.Concurrency);
        // Our own client (see UpstreamClient): the service defaults' resilience handler would time out a long document
        // at 30 s and retry 503s on its own schedule.
        _http = UpstreamClient.CreateHttpClient(GrobidExtensions.BaseUrl(configuration), CitationUserAgent.Value(null));
    }

    /// <summary>The references of the PDF in <paramref name="pdf"/> (a seekable stream, sent again after each 503).</summary>
    public async Task<IReadOnlyList<ExtractedReference>> ReferencesAsync(Stream pdf, CancellationToken cancellationToken)
    {
        await _pool.WaitAsync(cancellationToken);
        try
        {
            var busyWaited = TimeSpan.Zero;
            while (true)
            {
                pdf.Position = 0;
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                deadline.CancelAfter(_options.DocumentTimeout);
                try
                {
                    using var form = new MultipartFormDataContent();
                    var file = new StreamContent(new NonDisposingStream(pdf));
                    file.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
                    form.Add(file, "input", "document.pdf");
                    form.Add(new StringContent("0"), "consolidateCitations");
                    form.Add(new StringContent("1"), "includeRawCitations");
                    using var response = await _http.PostAsync("api/processReferences", form, deadline.Token);
                    switch (response.StatusCode)
                    {
                        case HttpStatusCode.OK:
                            return await ParseAsync(response, deadline.Token);
                        case HttpStatusCode.NoContent:
                            return []; // "no content could be extracted": no references found
                        case HttpStatusCode.ServiceUnavailable:
                            CitationMetrics.Refused(CitationSources.Grobid, "busy");
                            var wait = UpstreamClient.RetryAfter(response, _time) ?? Jitter(_options.BusyRetryDelay);
                            if (busyWaited + wait > _options.MaxBusyWait)
                            {
                                throw new GrobidException($"GROBID stayed busy (503) for {busyWaited.TotalSeconds:F0} s, longer than Citations:Grobid:MaxBusyWait");
                            }

                            busyWaited += wait;
                            _logger.LogDebug("GROBID is busy (503): sending the document again in {Seconds:F1} s", wait.TotalSeconds);
                            await Task.Delay(wait, _time, cancellationToken);
                            continue;
                        default:
                            if ((int)response.StatusCode >= 500)
                            {
                                CitationMetrics.Refused(CitationSources.Grobid, "server_error");
                            }

                            var body = await response.Content.ReadAsStringAsync(deadline.Token);
                            throw new GrobidException($"GROBID answered {(int)response.StatusCode}: {UpstreamJson.Cap(body, 200)}");
                    }
                }
                catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
                {
                    CitationMetrics.Refused(CitationSources.Grobid, "timeout");
                    throw new GrobidException($"GROBID gave no answer within {_options.DocumentTimeout.TotalSeconds:F0} s", ex);
                }
                catch (HttpRequestException ex)
                {
                    CitationMetrics.Refused(CitationSources.Grobid, "unreachable");
                    throw new GrobidException($"GROBID is not reachable: {ex.Message}", ex);
                }
            }
        }
        finally
        {
            _pool.Release();
        }
    }

    private async Task<IReadOnlyList<ExtractedReference>> ParseAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        // Read whole (capped) before parsing, so a slow body counts against the document's timeout, not the parser.
        var body = await CappedBody.ReadAsync(response, _options.MaxTeiBytes, cancellationToken)
            ?? throw new GrobidException($"GROBID's TEI is longer than the cap of {_options.MaxTeiBytes} bytes");
        try
        {
            return TeiReferences.Parse(new MemoryStream(body, writable: false), _options.MaxReferences);
        }
        catch (TeiFormatException ex)
        {
            throw new GrobidException($"GROBID's TEI cannot be read: {ex.Message}", ex);
        }
    }

    private static TimeSpan Jitter(TimeSpan delay) => delay * (0.75 + Random.Shared.NextDouble() * 0.5);

    public void Dispose()
    {
        _http.Dispose();
        _pool.Dispose();
    }

    /// <summary>The PDF's stream outlives each request's content (it is sent again after a 503).</summary>
    private sealed class NonDisposingStream(Stream inner) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => inner.CanSeek;

        public override bool CanWrite => false;

        public override long Length => inner.Length;

        public override long Position { get => inner.Position; set => inner.Position = value; }

        public override void Flush() { }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
