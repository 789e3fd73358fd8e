using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace FentaWeb.Api.Hosting;

/// <summary>The OpenAPI 3 document at /openapi/v1.json: bearer security and the problem responses every operation can give.</summary>
public static class OpenApi
{
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
                var metadata = context.Description.ActionDescriptor.EndpointMetadata;
                var secured = metadata.OfType<Microsoft.AspNetCore.Authorization.IAuthorizeData>().Any();
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
