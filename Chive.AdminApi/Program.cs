using Chive.AdminApi.Apis;
using Chive.AdminApi.Extensions;
using Prometheus;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.MapBackfillApi();
app.MapMetrics();
app.MapDefaultEndpoints();

app.Run();
