namespace FentaWeb.LocalHosting;

public static class FunctionsHosting
{
    /// <summary>Whether the Azure Functions host started this process: it passes <c>--functions-*</c> arguments and sets FUNCTIONS_WORKER_RUNTIME.</summary>
    public static bool IsFunctionsHost(string[] args) =>
        args.Any(a => a.StartsWith("--functions-", StringComparison.Ordinal)) || Environment.GetEnvironmentVariable("FUNCTIONS_WORKER_RUNTIME") is { Length: > 0 };
}
