using Chive.AppHost;
using Chive.ServiceDefaults;
using Microsoft.Extensions.Configuration;

var builder = DistributedApplication.CreateBuilder(args);

// UseExternalServices=true swaps every container below for a plain connection string
// (ConnectionStrings:<name>), so the same wiring runs against servers started elsewhere:
// the tests, CI and machines without Docker run it that way.
var external = builder.Configuration.GetValue<bool>("UseExternalServices");

// Infrastructure.
var redis = external ? builder.AddConnectionString(ResourceNames.Redis) : builder.AddChiveRedis();
var database = external ? builder.AddConnectionString(ResourceNames.Database) : builder.AddChiveDatabase();
var rabbitmq = external ? builder.AddConnectionString(ResourceNames.RabbitMq) : builder.AddChiveRabbitMq();
var elasticsearch = external ? builder.AddConnectionString(ResourceNames.Elasticsearch) : builder.AddElasticsearch();
var grobid = external ? builder.AddConnectionString(ResourceNames.Grobid) : builder.AddGrobid();

// The citation upstreams' credentials (Parameters:crossref-mailto, Parameters:semantic-scholar-api-key — user secrets
// locally, the deployment's secret store in production). Empty is allowed: Crossref then puts us in its public pool
// (the worker warns at start-up) and Semantic Scholar in its shared unauthenticated one.
var crossrefMailto = builder.AddParameter("crossref-mailto");
var semanticScholarKey = builder.AddParameter("semantic-scholar-api-key", secret: true);

// Replicas of the two workers that scale out (settings Replicas:ScanWorker and Replicas:IndexWorker, default 1): an
// operation's units are messages on one queue per kind, which the replicas take as competing consumers; a replica that
// dies returns its unacknowledged unit to the queue for another. The CitationWorker stays one process: its pace for
// GROBID, Semantic Scholar and Crossref is kept in memory, per process.
var scanWorkers = ReplicaCount(builder.Configuration, "ScanWorker");
var indexWorkers = ReplicaCount(builder.Configuration, "IndexWorker");

// Services. Each references and waits for exactly what it uses; the three that use PostgreSQL apply the
// schema migrations at start-up under an advisory lock, so whichever starts first migrates and the others wait.
builder.AddProject<Projects.Chive_AdminApi>(ResourceNames.AdminApi)
    .WithReference(redis).WaitFor(redis)          // the operation records (saga state) and their history
    .WithReference(rabbitmq).WaitFor(rabbitmq)    // the saga's endpoint; commands to the workers
    .WithHttpHealthCheck("/health");

builder.AddProject<Projects.Chive_ScanWorker>(ResourceNames.ScanWorker)
    .WithReplicas(scanWorkers)
    .WithReference(database).WaitFor(database)    // the PDS registry; the pace per PDS shared by every replica
    .WithReference(rabbitmq).WaitFor(rabbitmq)
    .WithHttpHealthCheck("/health");

builder.AddProject<Projects.Chive_CitationWorker>(ResourceNames.CitationWorker)
    .WithReference(database).WaitFor(database)    // eprints to read, citations to write
    .WithReference(rabbitmq).WaitFor(rabbitmq)
    .WithReference(grobid).WaitFor(grobid)        // GROBID loads its models for a minute before it answers
    .WithEnvironment("Citations__Crossref__Mailto", crossrefMailto)
    .WithEnvironment("Citations__SemanticScholar__ApiKey", semanticScholarKey)
    .WithHttpHealthCheck("/health");

builder.AddProject<Projects.Chive_IndexWorker>(ResourceNames.IndexWorker)
    .WithReplicas(indexWorkers)
    .WithReference(database).WaitFor(database)    // indexed records and the eprints projection
    .WithReference(rabbitmq).WaitFor(rabbitmq)
    .WithReference(elasticsearch).WaitFor(elasticsearch)
    .WithHttpHealthCheck("/health");

builder.Build().Run();

static int ReplicaCount(IConfiguration configuration, string worker)
{
    var replicas = configuration.GetValue<int?>($"Replicas:{worker}") ?? 1;
    return replicas is >= 1 and <= 32
        ? replicas
        : throw new InvalidOperationException($"Replicas:{worker} is {replicas}: give 1 to 32 replicas");
}
