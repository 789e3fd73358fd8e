using System.Text;
using System.Text.Json;
using FentaWeb.Domain.Common;

namespace FentaWeb.Api.Hosting;

/// <summary>
/// Text PostgreSQL cannot store: the NUL character (U+0000), refused wherever a request carries it (body strings and
/// property names, query values, route values) with a 400 naming the field, before any function sees it.
/// </summary>
public static class InputText
{
    /// <summary>How deep a request body may nest.</summary>
    public const int MaxDepth = 32;

    /// <summary>
    /// How deep a response may nest. Responses wrap stored JSON a few levels deeper (a page, its data, a workflow's
    /// variables), and records stored before input stopped at <see cref="MaxDepth"/> nest up to the 64 levels the reader
    /// took then, so responses are written with room above both: what is stored can always be listed.
    /// </summary>
    public const int MaxOutputDepth = 128;

    private static readonly byte[] EscapedNul = "\\u0000"u8.ToArray();

    /// <summary>Throws for a query or route value with a NUL.</summary>
    public static string? Checked(string? value, string field) =>
        value is not null && value.Contains('\0') ? throw new ValidationFailedException(field, "must not contain the NUL character (U+0000)") : value;

    /// <summary>Throws for a JSON body with a NUL in any string or property name, naming its path (<c>graph.nodes[0].name</c>).</summary>
    public static void CheckJson(ReadOnlySpan<byte> body)
    {
        // JSON can only carry NUL escaped, so a body without the escape (nearly every one) needs no walk.
        if (body.IndexOf(EscapedNul) < 0) return;
        using var document = JsonDocument.Parse(body.ToArray(), new JsonDocumentOptions { MaxDepth = MaxDepth });
        var errors = new FieldErrors();
        Walk(document.RootElement, "", errors);
        errors.ThrowIfAny();
    }

    private static void Walk(JsonElement element, string path, FieldErrors errors)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String when element.GetString()!.Contains('\0'):
                errors.Add(path.Length == 0 ? "body" : path, "must not contain the NUL character (U+0000)");
                break;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    var at = path.Length == 0 ? property.Name : $"{path}.{property.Name}";
                    if (property.Name.Contains('\0')) errors.Add(Printable(at), "is a property name with the NUL character (U+0000)");
                    else Walk(property.Value, at, errors);
                }
                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray()) Walk(item, $"{path}[{index++}]", errors);
                break;
        }
    }

    /// <summary>The longest description (workflows, templates) the API stores.</summary>
    public const int MaxDescription = 2000;

    /// <summary>The largest variables object (a workflow's, a run's, a schedule's) in bytes of JSON.</summary>
    public const int MaxVariablesBytes = 16 * 1024;

    public static void CheckDescription(string? description, FieldErrors errors)
    {
        if (description is { Length: > MaxDescription }) errors.Add("description", $"must be at most {MaxDescription} characters");
    }

    /// <summary>Variables must be a JSON object of at most <see cref="MaxVariablesBytes"/>.</summary>
    public static void CheckVariables(JsonElement? variables, FieldErrors errors, string field = "variables")
    {
        if (variables is not { } value || value.ValueKind == JsonValueKind.Null) return;
        if (value.ValueKind != JsonValueKind.Object) errors.Add(field, "must be a JSON object");
        else if (Encoding.UTF8.GetByteCount(value.GetRawText()) > MaxVariablesBytes) errors.Add(field, $"must be at most {MaxVariablesBytes / 1024} KB of JSON");
    }

    private static string Printable(string path) => new StringBuilder(path).Replace("\0", "\\u0000").ToString();
}
