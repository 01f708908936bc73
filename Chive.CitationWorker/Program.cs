using Chive.CitationWorker.Extensions;
using Prometheus;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapMetrics(); // the citation series (CitationMetrics), in Prometheus text

app.Run();
