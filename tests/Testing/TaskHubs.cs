namespace FentaWeb.Testing;

/// <summary>
/// Settings for a test's own slice of the run's shared Azurite: a fresh task hub (so fixtures never see each other's
/// runs) with timings for one busy machine (fast polls; short visibility and leases, so a killed worker's messages and
/// partitions come back within seconds instead of minutes), and an asset container of the same name, reached as the
/// local stack reaches it (over HTTPS, with the emulator-only Entra ID credential).
/// </summary>
public static class TaskHubs
{
    public static async Task<Dictionary<string, string?>> SettingsAsync(string fixture)
    {
        var azurite = await Azurite.SharedAsync();
        // Hub names: letters and digits, starting with a letter, at most 45 characters (so also a valid container name).
        var name = "t" + new string(fixture.Where(char.IsLetterOrDigit).Take(20).ToArray()).ToLowerInvariant() + Guid.NewGuid().ToString("N")[..12];
        return new Dictionary<string, string?>
        {
            ["FENTA_STORAGE"] = azurite.ConnectionString,
            ["FENTA_TASK_HUB"] = name,
            ["FENTA_TASK_HUB_POLL_SECONDS"] = "0.1",
            ["FENTA_TASK_HUB_VISIBILITY_SECONDS"] = "10",
            ["FENTA_TASK_HUB_LEASE_SECONDS"] = "6",
            ["FENTA_NODE_CLAIM_SECONDS"] = "6",
            ["FENTA_RENDER_VISIBILITY_SECONDS"] = "10",
            ["FENTA_RENDER_QUEUE_PREFIX"] = name + "-",
            // Webhook deliveries are handed to orchestrations every second rather than every five.
            ["FENTA_WEBHOOK_SCHEDULE"] = "* * * * * *",
            // Published videos' counters are read every two seconds (a test waits for the rows).
            ["FENTA_PUBLICATION_STATS_SCHEDULE"] = "*/2 * * * * *",
            ["FENTA_AZURE_BLOB_URL"] = azurite.ContainerUrl(name),
            ["FENTA_AZURE_BLOB_CREDENTIAL"] = "azurite",
            // One bounded cache for every test process: least recently used copies make room, so it never grows past this.
            ["FENTA_BLOB_CACHE_DIR"] = Path.Combine(Path.GetTempPath(), "fenta-test-blob-cache"),
            ["FENTA_BLOB_CACHE_MB"] = "512",
        };
    }
}
