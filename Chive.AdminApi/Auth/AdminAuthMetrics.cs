using System.Diagnostics.Metrics;
using Chive.AdminApi.Operations;

namespace Chive.AdminApi.Auth;

/// <summary><c>chive_admin_auth_refusals_total{reason}</c>: every refused admin call, by why (on the AdminApi's meter).</summary>
public sealed class AdminAuthMetrics(IMeterFactory meters)
{
    private readonly Counter<long> _refusals = meters.Create(BackfillMetrics.MeterName).CreateCounter<long>("chive_admin_auth_refusals_total",
        description: "Admin calls refused, by reason (no_credentials, unknown_key, expired, wrong_method, not_admin, …).");

    public void Refused(string reason) => _refusals.Add(1, new KeyValuePair<string, object?>("reason", reason));
}
