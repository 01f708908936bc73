using Chive.AdminApi.Auth;

namespace Chive.UnitTests.Auth;

public sealed class AdminOptionsTests
{
    private const string Hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    [Fact]
    public void The_one_line_forms_of_the_AppHost_parameters_join_the_lists()
    {
        var options = new AdminOptions
        {
            ApiKeys = [new ApiKeyOptions { Label = "file", Sha256 = Hash }],
            AdminDids = ["did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"],
            OperatorKeys = $" ops = {Hash} ; ci={Hash};",
            AdminDidList = "did:plc:bbbbbbbbbbbbbbbbbbbbbbbb, did:web:admin.example did:plc:aaaaaaaaaaaaaaaaaaaaaaaa",
        };

        options.MergeLists();

        Assert.Equal(["file", "ops", "ci"], options.ApiKeys.Select(k => k.Label));
        Assert.All(options.ApiKeys, k => Assert.Equal(Hash, k.Sha256));
        Assert.Equal(["did:plc:aaaaaaaaaaaaaaaaaaaaaaaa", "did:plc:bbbbbbbbbbbbbbbbbbbbbbbb", "did:web:admin.example"], options.AdminDids);
    }

    [Fact]
    public void None_is_none()
    {
        var options = new AdminOptions { OperatorKeys = "none", AdminDidList = " None " };
        options.MergeLists();
        Assert.Equal((0, 0), (options.ApiKeys.Count, options.AdminDids.Count));
    }

    [Fact]
    public void A_key_without_a_label_stays_in_the_list_with_an_empty_one_so_validation_names_it()
    {
        var options = new AdminOptions { OperatorKeys = Hash };
        options.MergeLists();
        Assert.Equal(("", Hash), (options.ApiKeys.Single().Label, options.ApiKeys.Single().Sha256));
    }
}
