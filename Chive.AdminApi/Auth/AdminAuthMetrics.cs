using Prometheus;

namespace Chive.AdminApi.Auth;

/// <summary><c>chive_admin_auth_refusals_total{reason}</c>: every refused admin call, by why.</summary>
public sealed class AdminAuthMetrics
{
    private static readonly Counter Refusals = Metrics.CreateCounter(
        "chive_admin_auth_refusals_total", "Admin calls refused, by reason (no_credentials, unknown_key, expired, wrong_method, not_admin, …).",
        new CounterConfiguration { LabelNames = ["reason"] });

    public void Refused(string reason) => Refusals.WithLabels(reason).Inc();
}
