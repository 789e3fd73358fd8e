using System.Collections.Frozen;
using System.Reflection;
using FentaWeb.Domain.Identity;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace FentaWeb.Api.Hosting;

/// <summary>Anyone may call this function: no credentials are read (sign-in, probes, signed provider callbacks).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class AnonymousAttribute : Attribute;

/// <summary>
/// A signed-in caller (access token or API key) with at least <see cref="Role"/> in the selected org and, for API keys,
/// the <see cref="Scope"/>. Functions without <see cref="AnonymousAttribute"/> need this.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class AccessAttribute(OrgRole role = OrgRole.Viewer, string? scope = null) : Attribute
{
    public OrgRole Role { get; } = role;
    public string? Scope { get; } = scope;
    /// <summary>Only a signed-in user, not an API key (minting keys, spending money).</summary>
    public bool SessionOnly { get; init; }
    /// <summary>
    /// Only a user whose address is verified (minting keys, inviting, paying): whoever registered an address they cannot
    /// read must not hold anything that outlives the owner's password reset, or spend in the owner's name.
    /// </summary>
    public bool VerifiedEmail { get; init; }
}

public enum RateLimitClass
{
    /// <summary>Counted per org and per user (per client address before sign-in).</summary>
    Standard,
    /// <summary>Never limited: probes, the API document and providers' signed callbacks.</summary>
    Unlimited,
    /// <summary>
    /// The public share pages (<c>/s/{token}</c>, their video and poster): per client address in a budget of their own
    /// (FENTA_SHARE_VIEWS_PER_MINUTE), so a watched link neither spends nor is spent by sign-in's anonymous budget.
    /// </summary>
    SharePage,
}

[AttributeUsage(AttributeTargets.Method)]
public sealed class RateLimitAttribute(RateLimitClass limit) : Attribute
{
    public RateLimitClass Class { get; } = limit;
}

/// <summary>Where a function parameter's value comes from.</summary>
public enum ParameterSource
{
    /// <summary>The trigger's <see cref="HttpRequest"/>, a route value, the durable client or the cancellation token: the host binds it.</summary>
    Host,
    /// <summary>The authenticated <see cref="Hosting.Caller"/>.</summary>
    Caller,
    /// <summary>The JSON body (<c>[FromBody]</c>), read with the API's serializer options.</summary>
    Body,
    /// <summary>One query string value (<c>[FromQuery]</c> or a plain string parameter not in the route).</summary>
    Query,
    /// <summary>A record of query values (<c>[AsParameters]</c>), one per constructor parameter.</summary>
    QueryRecord,
}

/// <param name="Optional">Declared nullable (a body that may be left out), read once at discovery: NullabilityInfoContext is not thread-safe.</param>
public sealed record HttpFunctionParameter(ParameterInfo Info, ParameterSource Source, string Name, bool Optional);

/// <summary>One HTTP-trigger function of this app: its route, verbs and access rules, as its attributes declare them.</summary>
public sealed record HttpFunction(string Name, MethodInfo Method, string Route, IReadOnlyList<string> Verbs, AccessAttribute? Access,
    RateLimitClass RateLimit, IReadOnlyList<HttpFunctionParameter> Parameters)
{
    public bool IsAnonymous => Access is null;
}

/// <summary>
/// The app's HTTP functions, read once from their <c>[Function]</c> and <c>[HttpTrigger]</c> attributes: the one list both the
/// Functions host (through functions.metadata, which the SDK writes from the same attributes) and the local Kestrel adapter serve.
/// </summary>
public static class HttpFunctions
{
    /// <summary>
    /// The <c>[DurableClient]</c> task hub: the orchestrations app's. The API's host.json names the same hub, so the Durable
    /// extension's default client serves it; the app has no orchestration or activity functions, so it starts and queries
    /// runs there without ever taking orchestration work.
    /// </summary>
    public const string OrchestrationsTaskHub = "%FENTA_TASK_HUB%";

    // Before All: static fields initialize in order.
    private static readonly Type[] HostBound = [typeof(HttpRequest), typeof(DurableTaskClient), typeof(CancellationToken)];

    public static IReadOnlyList<HttpFunction> All { get; } = Discover(typeof(HttpFunctions).Assembly);

    public static FrozenDictionary<string, HttpFunction> ByName { get; } = All.ToFrozenDictionary(f => f.Name, StringComparer.Ordinal);

    private static List<HttpFunction> Discover(Assembly assembly) =>
    [
        .. from type in assembly.GetTypes()
           from method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
           let function = method.GetCustomAttribute<FunctionAttribute>()
           let trigger = method.GetParameters().Select(p => p.GetCustomAttribute<HttpTriggerAttribute>()).FirstOrDefault(t => t is not null)
           where function is not null && trigger is not null
           select Describe(function.Name, method, trigger),
    ];

    private static HttpFunction Describe(string name, MethodInfo method, HttpTriggerAttribute trigger)
    {
        var route = trigger.Route ?? throw new InvalidOperationException($"Function {name} has no route.");
        var access = method.GetCustomAttribute<AccessAttribute>();
        if (access is null == (method.GetCustomAttribute<AnonymousAttribute>() is null))
            throw new InvalidOperationException($"Function {name} must say who may call it: [Access(...)] or [Anonymous], not both or neither.");
        var routeValues = route.Split('/').Where(s => s.StartsWith('{')).Select(s => s.Trim('{', '}', '?').Split(':')[0]).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var nullability = new NullabilityInfoContext();
        var parameters = method.GetParameters().Select(p => new HttpFunctionParameter(p, SourceOf(name, p, routeValues), QueryName(p),
            nullability.Create(p).ReadState == NullabilityState.Nullable)).ToList();
        if (access is null && parameters.Any(p => p.Source == ParameterSource.Caller))
            throw new InvalidOperationException($"Function {name} is anonymous but takes a Caller.");
        return new HttpFunction(name, method, route, trigger.Methods?.Select(m => m.ToUpperInvariant()).ToArray() ?? ["GET"], access,
            method.GetCustomAttribute<RateLimitAttribute>()?.Class ?? RateLimitClass.Standard, parameters);
    }

    private static ParameterSource SourceOf(string function, ParameterInfo p, HashSet<string> routeValues) => p switch
    {
        _ when HostBound.Contains(p.ParameterType) || routeValues.Contains(p.Name!) => ParameterSource.Host,
        _ when p.ParameterType == typeof(Caller) => ParameterSource.Caller,
        _ when p.GetCustomAttribute<Microsoft.AspNetCore.Mvc.FromBodyAttribute>() is not null => ParameterSource.Body,
        _ when p.GetCustomAttribute<AsParametersAttribute>() is not null => ParameterSource.QueryRecord,
        _ when p.ParameterType == typeof(string) => ParameterSource.Query,
        _ => throw new InvalidOperationException($"Function {function}: parameter '{p.Name}' ({p.ParameterType.Name}) has no source; " +
            "take services in the constructor."),
    };

    public static string QueryName(ParameterInfo p) =>
        (p.GetCustomAttribute<Microsoft.AspNetCore.Mvc.FromQueryAttribute>() as IFromQueryMetadata)?.Name ?? p.Name!;
}
