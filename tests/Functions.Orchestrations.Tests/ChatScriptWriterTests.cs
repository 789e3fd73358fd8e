using FentaWeb.Domain.Common;
using FentaWeb.Domain.Scripts;
using FentaWeb.Integrations.Http;
using FentaWeb.Integrations.OpenAi;
using FentaWeb.Simulators;

namespace FentaWeb.Orchestrations.Tests;

/// <summary>The OpenAI-compatible client against a local simulator of the chat completions contract.</summary>
public class ChatScriptWriterTests() : SimulatorTests<OpenAiSimulator>(new())
{
    private static readonly ScriptRequest Request = new("city lights at night", "story", "en", 30, 3);

    private ChatScriptWriter Writer(string key = OpenAiSimulator.ValidKey, double timeoutSeconds = 5) =>
        Clients.OpenAi(new OpenAiEndpoint(Simulator.ApiBase, key, "test-model", TimeSpan.FromSeconds(timeoutSeconds)), (http, endpoint) => new ChatScriptWriter(http, endpoint));

    [Fact]
    public async Task WritesAScriptInJsonModeWithBearerAuth()
    {
        var script = await Writer().WriteAsync(Request, CancellationToken.None);

        Assert.Equal(("Rivers of Light", 3, "llm:test-model"), (script.Title, script.Scenes.Count, script.Source));
        Assert.Equal(["city night"], script.Scenes[0].SearchTerms);
        Assert.Equal(["#city", "#night"], script.Hashtags);
        var sent = Assert.Single(Simulator.Requests);
        Assert.Equal(("POST", "/v1/chat/completions", $"Bearer {OpenAiSimulator.ValidKey}"), (sent.Method, sent.Path, sent.Authorization));
        var body = sent.Body!.Value;
        Assert.Equal("test-model", body.GetProperty("model").GetString());
        Assert.Equal("json_object", body.GetProperty("response_format").GetProperty("type").GetString());
        Assert.Contains("exactly 3 scenes", body.GetProperty("messages")[1].GetProperty("content").GetString());
    }

    [Fact]
    public async Task WrongKeyIsAPermanentConfigurationError()
    {
        var error = await FailsWithAsync("LLM_UNAUTHORIZED", true, () => Writer("sk-wrong").WriteAsync(Request, CancellationToken.None));
        Assert.Contains("Incorrect API key", error.Message);
    }

    [Fact]
    public async Task RateLimitHonoursRetryAfterWithoutFailing()
    {
        Simulator.EnqueueError(429, """{"error": {"code": "rate_limit_exceeded", "message": "Slow down"}}""", retryAfterSeconds: 7);
        var error = await FailsAsync(() => Writer().WriteAsync(Request, CancellationToken.None));
        Assert.Equal(("LLM_RATE_LIMITED", TimeSpan.FromSeconds(7)), (error.Code, error.RetryAfter));
        Assert.IsType<FentaWeb.Runs.ActivityResult.RetryLater>(FentaWeb.Runs.ActivityResult.Of(error));
    }

    [Theory]
    [InlineData(500, "LLM_UNAVAILABLE", false)]
    [InlineData(503, "LLM_UNAVAILABLE", false)]
    [InlineData(400, "LLM_REJECTED", true)]
    [InlineData(402, "LLM_PAYMENT_REQUIRED", true)]
    public async Task HttpErrorsMapToTypedOutcomes(int status, string code, bool permanent)
    {
        // A 5xx is tried again by the client's pipeline, so an outage is one that outlasts its tries; a 4xx is not.
        var tries = status >= 500 ? ProviderResilience.Attempts : 1;
        for (var i = 0; i < tries; i++) Simulator.EnqueueError(status, """{"error": {"message": "nope"}}""");
        var error = await FailsWithAsync(code, permanent, () => Writer().WriteAsync(Request, CancellationToken.None));
        Assert.Null(error.RetryAfter);
        Assert.Equal(tries, Simulator.Requests.Count);
    }

    [Fact]
    public async Task ErrorInsideAnHttp200IsAnError()
    {
        Simulator.EnqueueError(200, """{"error": {"code": 502, "message": "upstream provider failed"}}""");
        var error = await FailsWithAsync("LLM_ERROR", false, () => Writer().WriteAsync(Request, CancellationToken.None));
        Assert.Contains("upstream provider failed", error.Message);
    }

    [Fact]
    public async Task SlowAnswerTimesOutAsARetryableFailure()
    {
        Simulator.EnqueueDelay(TimeSpan.FromSeconds(5));
        await FailsWithAsync("LLM_TIMEOUT", false, () => Writer(timeoutSeconds: 0.3).WriteAsync(Request, CancellationToken.None));
    }

    [Fact]
    public async Task ContentThatIsNotTheAskedJsonIsRetryable()
    {
        Simulator.Content = "Sure! Here is your script: once upon a time...";
        await FailsWithAsync("LLM_BAD_OUTPUT", false, () => Writer().WriteAsync(Request, CancellationToken.None));
    }
}
