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

// What an operator sets: AppHost parameters (Parameters:<name>; appsettings.json holds the defaults, user secrets
// override them locally, the deployment's parameter store in production), each handed below to exactly the services
// that read it. Secret ones are masked in the dashboard and in published manifests.
// The citation upstreams' credentials. "none" (the default) is allowed: Crossref then puts us in its public pool (the
// worker warns at start-up) and Semantic Scholar in its shared unauthenticated one. An empty parameter counts as unset.
var crossrefMailto = builder.AddParameter("crossref-mailto");
var semanticScholarKey = builder.AddParameter("semantic-scholar-api-key", secret: true);
// Who may call the admin methods: operator keys as label=sha256;label=sha256 (hashes, yet secret: they name who
// operates) and the administrators' DIDs for service auth, separated by commas; "none" for none (an empty parameter
// counts as unset, and a run would wait for it).
var operatorKeys = builder.AddParameter("operator-keys", secret: true);
var adminDids = builder.AddParameter("admin-dids");
// Where the governance graph lives, and the PLC directory that resolves every did:plc.
var governancePdsUrl = builder.AddParameter("governance-pds-url");
var governanceDid = builder.AddParameter("governance-did");
var plcDirectoryUrl = builder.AddParameter("plc-directory-url");
// The schedules (00:00:00 turns one off).
var governanceSyncInterval = builder.AddParameter("governance-sync-interval");
var freshnessScanInterval = builder.AddParameter("freshness-scan-interval");
var pdsScanInterval = builder.AddParameter("pds-scan-interval");

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
    .WithReference(database)                      // read by the detail view only; not waited for: the rest works without it
    .WithEnvironment("Admin__OperatorKeys", operatorKeys)
    .WithEnvironment("Admin__AdminDidList", adminDids)
    .WithEnvironment("AtProto__Identity__PlcDirectoryUrl", plcDirectoryUrl) // the keys of service-auth tokens
    .WithEnvironment("Operations__GovernanceSyncInterval", governanceSyncInterval)
    .WithEnvironment("Operations__FreshnessScanInterval", freshnessScanInterval)
    .WithEnvironment("Operations__PdsScanInterval", pdsScanInterval)
    .WithHttpHealthCheck("/health");

builder.AddProject<Projects.Chive_ScanWorker>(ResourceNames.ScanWorker)
    .WithReplicas(scanWorkers)
    .WithReference(database).WaitFor(database)    // the PDS registry; the pace per PDS shared by every replica
    .WithReference(rabbitmq).WaitFor(rabbitmq)
    .WithEnvironment("Governance__PdsUrl", governancePdsUrl)
    .WithEnvironment("Governance__Did", governanceDid)
    .WithEnvironment("AtProto__Identity__PlcDirectoryUrl", plcDirectoryUrl)
    .WithHttpHealthCheck("/health");

builder.AddProject<Projects.Chive_CitationWorker>(ResourceNames.CitationWorker)
    .WithReference(database).WaitFor(database)    // eprints to read, citations to write
    .WithReference(rabbitmq).WaitFor(rabbitmq)
    .WithReference(grobid).WaitFor(grobid)        // GROBID loads its models for a minute before it answers
    .WithEnvironment("Citations__Crossref__Mailto", crossrefMailto)
    .WithEnvironment("Citations__SemanticScholar__ApiKey", semanticScholarKey)
    .WithEnvironment("AtProto__Identity__PlcDirectoryUrl", plcDirectoryUrl)   // PDFs are fetched from each eprint's PDS
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
