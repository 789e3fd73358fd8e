using Microsoft.Extensions.Hosting;
using FentaWeb.Orchestrations;

await WorkerHost.Build(args).RunAsync();
