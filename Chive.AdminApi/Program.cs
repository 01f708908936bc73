using Chive.AdminApi.AdminPage;
using Chive.AdminApi.Apis;
using Chive.AdminApi.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseXrpcErrors();
app.MapBackfillApi();
app.MapAdminPage();
app.MapDefaultEndpoints();

app.Run();
