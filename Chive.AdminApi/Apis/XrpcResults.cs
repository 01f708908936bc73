namespace Chive.AdminApi.Apis;

/// <summary>XRPC-shaped errors: <c>{"error": "&lt;Name&gt;", "message": "..."}</c> with the right HTTP status.</summary>
internal static class XrpcResults
{
    public static IResult Error(int status, string error, string message) =>
        Results.Json(new { error, message }, statusCode: status);

    public static IResult InvalidRequest(string message) => Error(StatusCodes.Status400BadRequest, "InvalidRequest", message);

    public static IResult NotFound(string message) => Error(StatusCodes.Status404NotFound, "OperationNotFound", message);
}
