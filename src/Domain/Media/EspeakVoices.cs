namespace FentaWeb.Domain.Media;

/// <summary>The languages espeak-ng speaks on this machine (<c>espeak-ng --voices</c>), read once.</summary>
public static class EspeakVoices
{
    private static readonly Lazy<Task<IReadOnlySet<string>>> Languages = new(LoadAsync);

    public static Task<IReadOnlySet<string>> ListAsync() => Languages.Value;

    private static async Task<IReadOnlySet<string>> LoadAsync()
    {
        var result = await ProcessRunner.RunAsync("espeak-ng", ["--voices"], CancellationToken.None);
        return result.StandardOutput.Split('\n').Skip(1)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(parts => parts.Length > 1).Select(parts => parts[1].ToLowerInvariant())
            .ToHashSet(StringComparer.Ordinal);
    }
}
