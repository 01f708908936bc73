using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Chive.ServiceDefaults;

namespace Chive.UnitTests.Foundation;

/// <summary>The AppHost's model, inspected without starting it: what runs, and who references and waits for what.</summary>
public sealed class AppHostModelTests
{
    private static readonly string[] Infrastructure =
        [ResourceNames.Redis, ResourceNames.PostgresServer, ResourceNames.RabbitMq, ResourceNames.Elasticsearch, ResourceNames.Grobid];

    /// <summary>What each service references and waits for — exactly these, no more.</summary>
    private static readonly Dictionary<string, string[]> Dependencies = new()
    {
        [ResourceNames.AdminApi] = [ResourceNames.Redis, ResourceNames.RabbitMq],
        [ResourceNames.ScanWorker] = [ResourceNames.Database, ResourceNames.RabbitMq],
        [ResourceNames.CitationWorker] = [ResourceNames.Database, ResourceNames.RabbitMq, ResourceNames.Grobid],
        [ResourceNames.IndexWorker] = [ResourceNames.Database, ResourceNames.RabbitMq, ResourceNames.Elasticsearch],
    };

    [Fact]
    public async Task With_Docker_the_model_has_five_infrastructure_containers_and_four_services()
    {
        await using var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Chive_AppHost>();

        var containers = builder.Resources.OfType<ContainerResource>().Select(r => r.Name).Order();
        Assert.Equal(Infrastructure.Order(), containers);
        Assert.Contains(builder.Resources, r => r.Name == ResourceNames.Database && r is IResourceWithConnectionString && r is IResourceWithParent);
        AssertServices(builder);
    }

    [Fact]
    public async Task In_external_mode_the_model_has_no_container_only_connection_strings()
    {
        await using var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Chive_AppHost>(["UseExternalServices=true"]);

        Assert.Empty(builder.Resources.OfType<ContainerResource>());
        foreach (var name in new[] { ResourceNames.Redis, ResourceNames.Database, ResourceNames.RabbitMq, ResourceNames.Elasticsearch, ResourceNames.Grobid })
        {
            Assert.IsAssignableFrom<IResourceWithConnectionString>(Assert.Single(builder.Resources, r => r.Name == name));
        }

        AssertServices(builder);
    }

    [Fact]
    public async Task Containers_are_configured_as_the_services_need_them()
    {
        await using var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Chive_AppHost>();
        var resources = builder.Resources.ToDictionary(r => r.Name);

        var redisArgs = await EvaluateArgsAsync(resources[ResourceNames.Redis]);
        Assert.Contains(redisArgs, a => a.Contains("redis-server", StringComparison.Ordinal) && a.Contains("--appendonly yes", StringComparison.Ordinal));

        Assert.Contains(resources[ResourceNames.RabbitMq].Annotations.OfType<ContainerImageAnnotation>(), i => i.Tag!.Contains("management", StringComparison.Ordinal));

        var elasticsearch = (ContainerResource)resources[ResourceNames.Elasticsearch];
        var image = Assert.Single(elasticsearch.Annotations.OfType<ContainerImageAnnotation>());
        Assert.StartsWith("9.", image.Tag);
        var environment = await EvaluateEnvironmentAsync(elasticsearch);
        Assert.Equal("single-node", environment["discovery.type"]);
        Assert.Equal("false", environment["xpack.security.enabled"]);
        Assert.Matches("^-Xms\\d+[mg] -Xmx\\d+[mg]$", environment["ES_JAVA_OPTS"]);
        Assert.Single(elasticsearch.Annotations.OfType<HealthCheckAnnotation>());
        Assert.Equal(9200, elasticsearch.Annotations.OfType<EndpointAnnotation>().Single().TargetPort);

        var grobid = (ContainerResource)resources[ResourceNames.Grobid];
        var grobidImage = Assert.Single(grobid.Annotations.OfType<ContainerImageAnnotation>());
        Assert.Equal(("grobid/grobid", "0.8.2-crf"), (grobidImage.Image, grobidImage.Tag));
        Assert.Equal(8070, grobid.Annotations.OfType<EndpointAnnotation>().Single().TargetPort);
        Assert.Single(grobid.Annotations.OfType<HealthCheckAnnotation>());
    }

    /// <summary>
    /// Referenced without being waited for: the AdminApi reads PostgreSQL for its detail view only, and triggers, lists
    /// and cancels without it.
    /// </summary>
    private static readonly Dictionary<string, string[]> ReferencedOnly = new() { [ResourceNames.AdminApi] = [ResourceNames.Database] };

    private static IEnumerable<string> OperatorParameters => Wiring.Select(row => (string)row[0]);

    private static readonly string[] ConnectionStrings =
        [ResourceNames.Redis, ResourceNames.Database, ResourceNames.RabbitMq, ResourceNames.Elasticsearch, ResourceNames.Grobid];

    /// <summary>AppHost parameter → the environment variable it becomes → the services that must receive it (and no other).</summary>
    public static TheoryData<string, string, string[]> Wiring => new()
    {
        { "operator-keys", "Admin__OperatorKeys", [ResourceNames.AdminApi] },
        { "admin-dids", "Admin__AdminDidList", [ResourceNames.AdminApi] },
        { "governance-sync-interval", "Operations__GovernanceSyncInterval", [ResourceNames.AdminApi] },
        { "freshness-scan-interval", "Operations__FreshnessScanInterval", [ResourceNames.AdminApi] },
        { "pds-scan-interval", "Operations__PdsScanInterval", [ResourceNames.AdminApi] },
        { "governance-pds-url", "Governance__PdsUrl", [ResourceNames.ScanWorker] },
        { "governance-did", "Governance__Did", [ResourceNames.ScanWorker] },
        { "plc-directory-url", "AtProto__Identity__PlcDirectoryUrl", [ResourceNames.AdminApi, ResourceNames.ScanWorker, ResourceNames.CitationWorker] },
        { "crossref-mailto", "Citations__Crossref__Mailto", [ResourceNames.CitationWorker] },
        { "semantic-scholar-api-key", "Citations__SemanticScholar__ApiKey", [ResourceNames.CitationWorker] },
    };

    [Theory]
    [MemberData(nameof(Wiring))]
    public async Task Each_operator_setting_is_a_parameter_that_reaches_exactly_the_services_that_read_it(string parameter, string variable, string[] services)
    {
        await using var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Chive_AppHost>(["UseExternalServices=true"]);

        foreach (var project in builder.Resources.OfType<ProjectResource>())
        {
            var environment = await EvaluateEnvironmentObjectsAsync(project);
            if (services.Contains(project.Name))
            {
                Assert.True(environment.TryGetValue(variable, out var value), $"{project.Name} lacks {variable}");
                Assert.Equal(parameter, Assert.IsType<ParameterResource>(value).Name);
            }
            else
            {
                Assert.False(environment.ContainsKey(variable), $"{project.Name} receives {variable}, which it does not read");
                Assert.DoesNotContain(project.Annotations.OfType<ResourceRelationshipAnnotation>(), a => a.Resource.Name == parameter);
            }
        }
    }

    [Fact]
    public async Task The_keys_are_the_secret_parameters_and_every_parameter_has_a_default()
    {
        await using var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Chive_AppHost>(["UseExternalServices=true"]);
        // In external mode the connection strings are parameters too; the operator's settings are the others.
        var parameters = builder.Resources.OfType<ParameterResource>().Where(p => !ConnectionStrings.Contains(p.Name)).ToList();

        Assert.Equal(OperatorParameters.Order(StringComparer.Ordinal), parameters.Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(["operator-keys", "semantic-scholar-api-key"], parameters.Where(p => p.Secret).Select(p => p.Name).Order(StringComparer.Ordinal));
        // appsettings.json gives each one a value Aspire accepts (an empty one counts as missing), so `dotnet run` asks
        // for nothing and starts every service.
        foreach (var parameter in parameters)
        {
            Assert.False(string.IsNullOrEmpty(await parameter.GetValueAsync(CancellationToken.None)), $"{parameter.Name} has no default");
        }
    }

    private static void AssertServices(IDistributedApplicationTestingBuilder builder)
    {
        var projects = builder.Resources.OfType<ProjectResource>().ToDictionary(p => p.Name);
        Assert.Equal(Dependencies.Keys.Order(), projects.Keys.Order());

        foreach (var (service, expected) in Dependencies)
        {
            var project = projects[service];
            // Parameters (the operator's settings) are references too; they have their own test.
            var references = Direct(project.Annotations.OfType<ResourceRelationshipAnnotation>()
                .Where(a => a.Type == "Reference" && !OperatorParameters.Contains(a.Resource.Name)).Select(a => a.Resource));
            var waits = Direct(project.Annotations.OfType<WaitAnnotation>().Select(a => a.Resource));

            Assert.Equal(expected.Concat(ReferencedOnly.GetValueOrDefault(service, [])).Order(), references);
            Assert.Equal(expected.Order(), waits);
            Assert.Single(project.Annotations.OfType<HealthCheckAnnotation>());
        }
    }

    /// <summary>Referencing or waiting for a database also records its server; count the database only.</summary>
    private static IEnumerable<string> Direct(IEnumerable<IResource> resources)
    {
        var list = resources.ToList();
        return list.Where(r => !list.OfType<IResourceWithParent>().Any(child => ReferenceEquals(child.Parent, r))).Select(r => r.Name).Order();
    }

    private static async Task<List<string>> EvaluateArgsAsync(IResource resource)
    {
        var args = new List<object>();
        var context = new CommandLineArgsCallbackContext(args, CancellationToken.None);
        foreach (var callback in resource.Annotations.OfType<CommandLineArgsCallbackAnnotation>())
        {
            await callback.Callback(context);
        }

        return args.Select(a => a as string ?? a.ToString() ?? "").ToList();
    }

    /// <summary>The environment a resource's callbacks produce, values as given (a parameter stays a <see cref="ParameterResource"/>).</summary>
    private static async Task<Dictionary<string, object>> EvaluateEnvironmentObjectsAsync(IResource resource)
    {
        var environment = new Dictionary<string, object>();
        var context = new EnvironmentCallbackContext(new DistributedApplicationExecutionContext(DistributedApplicationOperation.Run), environment);
        foreach (var callback in resource.Annotations.OfType<EnvironmentCallbackAnnotation>())
        {
            await callback.Callback(context);
        }

        return environment;
    }

    private static async Task<Dictionary<string, string>> EvaluateEnvironmentAsync(IResource resource)
    {
        var environment = new Dictionary<string, object>();
        var context = new EnvironmentCallbackContext(new DistributedApplicationExecutionContext(DistributedApplicationOperation.Run), environment);
        foreach (var callback in resource.Annotations.OfType<EnvironmentCallbackAnnotation>())
        {
            await callback.Callback(context);
        }

        var values = new Dictionary<string, string>();
        foreach (var (key, value) in environment)
        {
            values[key] = value switch
            {
                string s => s,
                IValueProvider provider => await provider.GetValueAsync() ?? "",
                _ => value.ToString() ?? "",
            };
        }

        return values;
    }
}
