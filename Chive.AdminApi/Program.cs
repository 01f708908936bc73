using Chive.AdminApi.AdminPage;
using Chive.AdminApi.Apis;
using Chive.AdminApi.Extensions;
using Prometheus;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseXrpcErrors();
app.MapBackfillApi();
app.MapAdminPage();
app.MapMetrics();
app.MapDefaultEndpoints();

app.Run();
