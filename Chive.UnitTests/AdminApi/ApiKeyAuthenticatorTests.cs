using Chive.AdminApi.Auth;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Chive.UnitTests.AdminApi;

/// <summary>Operator keys: configured keys admit, others are refused, and the development key only opens Development.</summary>
public sealed class ApiKeyAuthenticatorTests
{
    private static readonly AdminOptions Keys = new()
    {
        ApiKeys =
        [
            new ApiKeyOptions { Label = "dev", Sha256 = ApiKeyAuthenticator.Hash(ApiKeyAuthenticator.DevelopmentKey) },
            new ApiKeyOptions { Label = "ops", Sha256 = ApiKeyAuthenticator.Hash("a-real-operator-key") },
        ],
    };

    [Theory]
    [InlineData("Development", "dev-operator-key", "admin:dev")]
    [InlineData("Production", "dev-operator-key", "refused")]
    [InlineData("Staging", "dev-operator-key", "refused")]
    [InlineData("Production", "a-real-operator-key", "admin:ops")]
    [InlineData("Production", "not-a-key", "refused")]
    public void A_key_is_admitted_only_where_it_may_be(string environment, string key, string expected)
    {
        var authenticator = new ApiKeyAuthenticator(new StaticOptions(Keys), new Environment(environment));

        var result = authenticator.Authenticate(key);

        Assert.Equal(expected, result switch
        {
            AdminAuthResult.Admin admin => $"admin:{admin.Label}",
            AdminAuthResult.Refused => "refused",
            _ => "anonymous",
        });
    }

    [Fact]
    public void The_development_key_outside_Development_is_refused_saying_why()
    {
        var result = new ApiKeyAuthenticator(new StaticOptions(Keys), new Environment("Production"))
            .Authenticate("dev-operator-key");
        Assert.Contains("outside the Development environment", Assert.IsType<AdminAuthResult.Refused>(result).Reason, StringComparison.Ordinal);
    }

    private sealed class StaticOptions(AdminOptions value) : IOptionsMonitor<AdminOptions>
    {
        public AdminOptions CurrentValue => value;

        public AdminOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<AdminOptions, string?> listener) => null;
    }

    private sealed class Environment(string name) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;

        public string ApplicationName { get; set; } = "Chive.AdminApi";

        public string ContentRootPath { get; set; } = "/";

        public Microsoft.Extensions.FileProviders.IFileProvider ContentRootFileProvider { get; set; } = null!;
    }
}
