using FentaWeb.Orchestrations.Activities;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using FentaWeb.Orchestrations;

// `stock` draws the offline stock library once and exits (./run.sh does it at set-up, so no job waits for it);
// anything else runs the worker.
if (args is ["stock"])
{
    var library = ActivityRegistration.StockLibrary(new ConfigurationBuilder().AddEnvironmentVariables().Build());
    Console.WriteLine($"{(await library.EnsureAsync(CancellationToken.None)).Count} stock clips in {library.Folder}");
    return;
}

await WorkerHost.Build(args).RunAsync();
