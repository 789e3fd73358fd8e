using FentaWeb.LocalHosting;
using FentaWeb.Orchestrations.Functions;
using FentaWeb.Orchestrations;
using FentaWeb.Runs.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

// `stock` draws the offline stock library once and exits (./run.sh does it at set-up, so no job waits for it).
if (args is ["stock"])
{
    var library = ActivityRegistration.StockLibrary(new ConfigurationBuilder().AddEnvironmentVariables().Build());
    Console.WriteLine($"{(await library.EnsureAsync(CancellationToken.None)).Count} stock clips in {library.Folder}");
    return;
}

// Started by the Azure Functions host: the Function app. Anywhere else: the same functions in a plain host.
await (FunctionsHosting.IsFunctionsHost(args) ? FunctionsHost.Build(args) : WorkerHost.Build(args)).RunAsync();
