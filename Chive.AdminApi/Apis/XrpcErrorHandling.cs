using Microsoft.AspNetCore.Diagnostics;

namespace Chive.AdminApi.Apis;

/// <summary>
/// Whatever goes wrong under <c>/xrpc</c> is answered in the XRPC error shape, never with ASP.NET's exception page or
/// an empty body: a request the framework could not bind (400 <c>InvalidRequest</c>), an unknown method (501
/// <c>MethodNotImplemented</c>), the wrong HTTP verb (405 <c>InvalidRequest</c>), and anything unexpected (500
/// <c>InternalServerError</c>, logged; no stack trace leaves the server).
/// </summary>
internal static class XrpcErrorHandling
{
    public static WebApplication UseXrpcErrors(this WebApplication app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            ExceptionHandler = async http =>
            {
                var exception = http.Features.Get<IExceptionHandlerFeature>()?.Error;
                var result = exception is BadHttpRequestException bad
                    ? XrpcResults.Error(bad.StatusCode, bad.StatusCode == StatusCodes.Status413PayloadTooLarge ? "PayloadTooLarge" : "InvalidRequest", bad.Message)
                    : XrpcResults.Error(StatusCodes.Status500InternalServerError, "InternalServerError", "the server failed to answer; see its log");
                await result.ExecuteAsync(http);
            },
        });
        app.UseStatusCodePages(async context =>
        {
            var http = context.HttpContext;
            if (!http.Request.Path.StartsWithSegments("/xrpc"))
            {
                return;
            }

            var result = http.Response.StatusCode switch
            {
                StatusCodes.Status404NotFound => XrpcResults.Error(StatusCodes.Status501NotImplemented, "MethodNotImplemented", $"no method {http.Request.Path.Value?["/xrpc/".Length..]}"),
                StatusCodes.Status405MethodNotAllowed => XrpcResults.Error(StatusCodes.Status405MethodNotAllowed, "InvalidRequest", $"{http.Request.Method} is not how this method is called"),
                var status => XrpcResults.Error(status, "InvalidRequest", "the request was not accepted"),
            };
            await result.ExecuteAsync(http);
        });
        return app;
    }
}
