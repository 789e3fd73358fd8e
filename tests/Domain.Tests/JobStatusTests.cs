using System.Text.Json;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Jobs;

namespace FentaWeb.Domain.Tests;

public class JobStatusTests
{
    [Fact]
    public void EachStatusIsTheTextSqlKeepsAndReadsBack()
    {
        Assert.Equal(JobStatuses.Wire, Enum.GetValues<JobStatus>().Select(s => s.ToWire()));
        Assert.All(Enum.GetValues<JobStatus>(), s => Assert.Equal(s, JobStatuses.Parse(s.ToWire())));
        Assert.False(JobStatuses.TryParse("Completed", out _));
        Assert.False(JobStatuses.TryParse(null, out _));
        Assert.Throws<FormatException>(() => JobStatuses.Parse("done"));
    }

    [Fact]
    public void JsonWritesTheSameTextWithTheApisOptionsAndWithoutThem()
    {
        foreach (var options in new[] { FentaJson.Options, new JsonSerializerOptions() })
            Assert.All(Enum.GetValues<JobStatus>(), s =>
            {
                Assert.Equal($"\"{s.ToWire()}\"", JsonSerializer.Serialize(s, options));
                Assert.Equal(s, JsonSerializer.Deserialize<JobStatus>($"\"{s.ToWire()}\"", options));
            });
    }

    [Fact]
    public void OnlyQueuedAndProcessingAreActiveAndOnlyTheEndsAreFinal()
    {
        Assert.Equal([JobStatus.Queued, JobStatus.Processing], Enum.GetValues<JobStatus>().Where(s => s.IsActive()));
        Assert.Equal([JobStatus.Completed, JobStatus.Failed, JobStatus.Cancelled], Enum.GetValues<JobStatus>().Where(s => s.IsFinal()));
    }
}
