namespace FentaWeb.Domain.Common;

/// <summary>
/// App Service resolves a setting written <c>@Microsoft.KeyVault(...)</c> (or <c>@Microsoft.AppConfiguration(...)</c>) to
/// the secret before the app starts; when it cannot (the identity lacks access, the vault is unreachable, the secret is
/// missing) the app gets the reference's own text instead. That text looks like any other value — long enough to pass
/// as a JWT key, say — so every host refuses it here, by the setting's name and never its value, at start-up and in
/// the API's readiness probe (issue 26).
/// </summary>
public static class SettingReferences
{
    // The platform resolves only values that begin with these, in any case (App Service's reference syntax).
    private static readonly string[] Prefixes = ["@Microsoft.KeyVault(", "@Microsoft.AppConfiguration("];

    /// <summary>The names of the settings whose value is still a reference, in name order (empty when all are resolved).</summary>
    public static IReadOnlyList<string> Unresolved(IEnumerable<KeyValuePair<string, string?>> settings) =>
        [.. settings
            .Where(s => s.Value is { } value && Prefixes.Any(p => value.TrimStart().StartsWith(p, StringComparison.OrdinalIgnoreCase)))
            .Select(s => s.Key).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal)];

    /// <summary>Why the settings cannot be used, naming each; null when none is an unresolved reference.</summary>
    public static string? Problem(IEnumerable<KeyValuePair<string, string?>> settings) =>
        Unresolved(settings) is { Count: > 0 } names
            ? $"{string.Join(", ", names)} still {(names.Count == 1 ? "holds a reference" : "hold references")} to Key Vault or App Configuration "
              + "that the platform did not resolve (check the app's identity can read the secret and reach the vault)"
            : null;

    /// <summary>Throws naming every setting that still holds a reference: a host must not start on one.</summary>
    public static void ThrowIfUnresolved(IEnumerable<KeyValuePair<string, string?>> settings)
    {
        if (Problem(settings) is { } problem) throw new InvalidOperationException(problem + ".");
    }
}
