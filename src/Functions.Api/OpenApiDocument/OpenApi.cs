using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using FentaWeb.Api.Hosting;

namespace FentaWeb.Api.OpenApiDocument;

/// <summary>
/// The OpenAPI 3 document: generated at build from the local host's endpoints (which are the function definitions, see
/// <see cref="LocalFunctions"/>), with bearer security and the problem responses every operation can give; served by the
/// <see cref="OpenApiFunctions"/> function from the file the build wrote.
/// </summary>
public static class OpenApi
{
    public const string DocumentFile = "openapi/v1.json";

    /// <summary>
    /// Writes the document without serving anything: the app starts with no server and none of its background services
    /// (no migrations, no task hub), which is enough for its endpoints to be described; the settings are only well-formed.
    /// </summary>
    public static async Task WriteDocumentAsync(string path)
    {
        var settings = new Dictionary<string, string?>
        {
            ["FENTA_DB"] = "Host=127.0.0.1;Database=openapi",
            ["FENTA_JWT_SIGNING_KEY"] = new string('x', 32),
            ["FENTA_STORAGE"] = "UseDevelopmentStorage=true",
            ["FENTA_AZURE_BLOB_URL"] = "https://127.0.0.1/devstoreaccount1/openapi",
        };
        await using var app = FentaApi.BuildLocal([], settings, services =>
        {
            foreach (var background in services.Where(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType?.Name != "GenericWebHostService").ToList())
                services.Remove(background);
            services.AddSingleton<IServer, NoServer>();
        });
        await app.StartAsync();
        var document = await app.Services.GetRequiredKeyedService<IOpenApiDocumentProvider>("v1").GetOpenApiDocumentAsync();
        await app.StopAsync();
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        await using var file = File.Create(path);
        await document.SerializeAsJsonAsync(file, OpenApiSpecVersion.OpenApi3_1);
    }

    private sealed class NoServer : IServer
    {
        public IFeatureCollection Features { get; } = new FeatureCollection();
        public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken ct) where TContext : notnull => Task.CompletedTask;
        public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
        public void Dispose() { }
    }

    public static IServiceCollection AddFentaOpenApi(this IServiceCollection services) =>
        services.AddOpenApi("v1", options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "FentaWeb API",
                    Version = "v1",
                    Description = "Workflow graphs in, short videos out. Errors are RFC 9457 problem details with a stable `code`.",
                    License = new OpenApiLicense { Name = "Proprietary", Identifier = "LicenseRef-Proprietary" },
                };
                document.Servers = [new OpenApiServer { Url = "/", Description = "This deployment" }];
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes["bearer"] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    Description = "A JWT access token from /v1/auth/login, or an API key (fw_…).",
                };
                document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
                document.Components.Schemas["Problem"] = ProblemSchema();
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                var secured = context.Description.ActionDescriptor.EndpointMetadata.OfType<AccessAttribute>().Any();
                // Anonymous operations say so explicitly ("security: [{}]") rather than leaving it unstated.
                operation.Security = secured
                    ? [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("bearer", context.Document)] = [] }]
                    : [new OpenApiSecurityRequirement()];
                operation.Responses ??= new OpenApiResponses();
                var problems = new List<(string, string)> { ("400", "Invalid input; `errors` names each field."), ("429", "Rate limited; see Retry-After.") };
                if (secured) problems.AddRange([("401", "Missing or invalid credentials."), ("403", "Role or scope not enough."), ("404", "No such resource in this organization.")]);
                foreach (var (status, description) in problems)
                    operation.Responses.TryAdd(status, new OpenApiResponse
                    {
                        Description = description,
                        Content = new Dictionary<string, OpenApiMediaType>
                        {
                            ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference("Problem", context.Document) },
                        },
                    });
                return Task.CompletedTask;
            });
        });

    private static OpenApiSchema ProblemSchema() => new()
    {
        Type = JsonSchemaType.Object,
        Description = "RFC 9457 problem details.",
        Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["type"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["title"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer },
            ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["code"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "Stable machine-readable code, e.g. VALIDATION_FAILED." },
            ["trace_id"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["errors"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Array,
                Items = new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Properties = new Dictionary<string, IOpenApiSchema>
                    {
                        ["field"] = new OpenApiSchema { Type = JsonSchemaType.String },
                        ["message"] = new OpenApiSchema { Type = JsonSchemaType.String },
                        ["node_id"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null },
                    },
                },
            },
        },
    };
}
