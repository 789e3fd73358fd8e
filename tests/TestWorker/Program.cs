using FentaWeb.Orchestrations;
using FentaWeb.TestWorker;
using Microsoft.Extensions.Hosting;

// A worker process with the test activities, started by crash and multi-process tests (and the engine bench).
// FENTA_TEST_ACTIVITIES=none runs the real activities instead (crash tests of a real provider client).
var doubles = Environment.GetEnvironmentVariable("FENTA_TEST_ACTIVITIES") != "none";
await WorkerHost.Build(args, configure: services =>
{
    if (doubles) services.AddTestActivities();
}).RunAsync();
