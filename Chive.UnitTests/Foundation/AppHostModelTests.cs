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

    private static readonly string[] CitationParameters = ["crossref-mailto", "semantic-scholar-api-key"];

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

    [Fact]
    public async Task The_citation_worker_gets_the_Crossref_contact_and_the_Semantic_Scholar_key_as_a_secret()
    {
        await using var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Chive_AppHost>(["UseExternalServices=true"]);
        var worker = builder.Resources.OfType<ProjectResource>().Single(p => p.Name == ResourceNames.CitationWorker);

        var context = new EnvironmentCallbackContext(new DistributedApplicationExecutionContext(DistributedApplicationOperation.Run));
        foreach (var callback in worker.Annotations.OfType<EnvironmentCallbackAnnotation>())
        {
            await callback.Callback(context);
        }

        var mailto = Assert.IsType<ParameterResource>(context.EnvironmentVariables["Citations__Crossref__Mailto"]);
        var key = Assert.IsType<ParameterResource>(context.EnvironmentVariables["Citations__SemanticScholar__ApiKey"]);
        Assert.Equal(("crossref-mailto", false), (mailto.Name, mailto.Secret));
        Assert.Equal(("semantic-scholar-api-key", true), (key.Name, key.Secret));
        Assert.DoesNotContain(builder.Resources.OfType<ProjectResource>().Where(p => p.Name != ResourceNames.CitationWorker),
            p => p.Annotations.OfType<ResourceRelationshipAnnotation>().Any(a => CitationParameters.Contains(a.Resource.Name)));
    }

    private static void AssertServices(IDistributedApplicationTestingBuilder builder)
    {
        var projects = builder.Resources.OfType<ProjectResource>().ToDictionary(p => p.Name);
        Assert.Equal(Dependencies.Keys.Order(), projects.Keys.Order());

        foreach (var (service, expected) in Dependencies)
        {
            var project = projects[service];
            // Parameters (the citation upstreams' credentials) are references too; they have their own test.
            var references = Direct(project.Annotations.OfType<ResourceRelationshipAnnotation>()
                .Where(a => a.Type == "Reference" && !CitationParameters.Contains(a.Resource.Name)).Select(a => a.Resource));
            var waits = Direct(project.Annotations.OfType<WaitAnnotation>().Select(a => a.Resource));

            Assert.Equal(expected.Order(), references);
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
