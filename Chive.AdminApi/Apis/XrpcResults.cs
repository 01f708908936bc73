using Microsoft.AspNetCore.Http.HttpResults;

namespace Chive.AdminApi.Apis;

/// <summary>The body of every XRPC error: <c>{"error": "&lt;Name&gt;", "message": "..."}</c>.</summary>
public sealed record XrpcError(string Error, string Message);

/// <summary>XRPC-shaped errors with the right HTTP status.</summary>
internal static class XrpcResults
{
    public static JsonHttpResult<XrpcError> Error(int status, string error, string message) =>
        TypedResults.Json(new XrpcError(error, message), statusCode: status);

    public static JsonHttpResult<XrpcError> InvalidRequest(string message) => Error(StatusCodes.Status400BadRequest, "InvalidRequest", message);

    public static JsonHttpResult<XrpcError> NotFound(string message) => Error(StatusCodes.Status404NotFound, "OperationNotFound", message);

    public static JsonHttpResult<XrpcError> NotImplemented(string message) => Error(StatusCodes.Status501NotImplemented, "NotImplemented", message);
}
