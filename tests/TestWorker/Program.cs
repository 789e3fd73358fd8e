using FentaWeb.Orchestrations;
using FentaWeb.Render;
using FentaWeb.Runs.Nodes;
using FentaWeb.TestWorker;
using Microsoft.Extensions.Hosting;

// A worker process with the test activities, started by crash and multi-process tests (and the engine bench):
// an orchestration worker, or with "render" first a render container whose Output.Render is a double.
// FENTA_TEST_ACTIVITIES=none runs the real activities instead (crash tests of a real provider client).
var doubles = Environment.GetEnvironmentVariable("FENTA_TEST_ACTIVITIES") != "none";
if (args is ["render", ..])
    await RenderHost.Build(args[1..], once: false, configure: services => services.AddNodeActivity<TestActivities.RenderDouble>()).RunAsync();
else
    await WorkerHost.Build(args, configure: services =>
    {
        if (doubles) services.AddTestActivities();
    }).RunAsync();
