using System.CommandLine;

namespace Chive.AdminCli.Commands;

/// <summary><c>--interval</c>: how often <c>--watch</c> asks the AdminApi.</summary>
public static class WatchInterval
{
    public static Option<TimeSpan> Create()
    {
        var option = new Option<TimeSpan>("--interval")
        {
            Description = "Seconds between two polls while watching (0.2 to 60)",
            DefaultValueFactory = _ => TimeSpan.FromSeconds(1),
            CustomParser = result =>
            {
                var text = result.Tokens.Single().Value;
                if (double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds is >= 0.2 and <= 60)
                {
                    return TimeSpan.FromSeconds(seconds);
                }

                result.AddError($"--interval must be a number of seconds from 0.2 to 60, not '{text}'");
                return default;
            },
        };
        return option;
    }
}
