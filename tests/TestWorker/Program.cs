using FentaWeb.Orchestrations;
using FentaWeb.TestWorker;
using Microsoft.Extensions.Hosting;

// A worker process with the test activities, started by crash and multi-process tests (and the engine bench).
await WorkerHost.Build(args, configure: services => services.AddTestActivities()).RunAsync();
