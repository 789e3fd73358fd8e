using System.Globalization;
using System.Text;
using System.Text.Json;
using FentaWeb.Domain.Common;

namespace FentaWeb.Api.Hosting;

/// <summary>
/// Text PostgreSQL cannot store: the NUL character (U+0000) and lone UTF-16 surrogates (not Unicode text, so they have
/// no UTF-8 form), refused wherever a request carries them (body strings and property names, query values, route
/// values) with a 400 naming the field, before any function sees them.
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

    private const string NotText = "must be Unicode text without the NUL character (U+0000) or a lone surrogate";

    /// <summary>An ISO 8601 date or date-time from a query value or body field (UTC when it names no offset); null when absent, an error naming the field when unreadable.</summary>
    public static DateTimeOffset? Instant(string? text, string field, FieldErrors errors)
    {
        if (text is null) return null;
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var instant)) return instant.ToUniversalTime();
        errors.Add(field, "must be an ISO 8601 date-time, e.g. 2026-11-22T10:00:00Z");
        return null;
    }

    /// <summary>Throws for a query or route value with a NUL or a lone surrogate.</summary>
    public static string? Checked(string? value, string field) =>
        value is not null && !IsStorable(value) ? throw new ValidationFailedException(field, NotText) : value;

    /// <summary>
    /// Throws for a JSON body with a NUL or a lone surrogate in any string or property name, naming its path
    /// (<c>graph.nodes[0].name</c>).
    /// </summary>
    public static void CheckJson(ReadOnlySpan<byte> body)
    {
        // JSON carries both only as \u escapes (raw, they are not valid UTF-8 and the parser refuses them), so a body
        // without such an escape (nearly every one) needs no walk.
        if (!HasSuspectEscape(body)) return;
        using var document = JsonDocument.Parse(body.ToArray(), new JsonDocumentOptions { MaxDepth = MaxDepth });
        var errors = new FieldErrors();
        Walk(document.RootElement, "", errors);
        errors.ThrowIfAny();
    }

    /// <summary>Whether the body holds a <c>\u0000</c> or a <c>\uD800</c>–<c>\uDFFF</c> escape.</summary>
    private static bool HasSuspectEscape(ReadOnlySpan<byte> body)
    {
        // An escaped backslash before the u (text, not an escape) is taken too: a false alarm only costs a walk.
        for (var rest = body; rest.IndexOf("\\u"u8) is var at and >= 0;)
        {
            rest = rest[(at + 2)..];
            if (rest.Length >= 4 && int.TryParse(rest[..4], NumberStyles.AllowHexSpecifier, null, out var code) && (code == 0 || code is >= 0xD800 and <= 0xDFFF))
                return true;
        }
        return false;
    }

    /// <summary>Text with no NUL and every surrogate in a pair.</summary>
    private static bool IsStorable(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\0') return false;
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) i++;
            else if (char.IsSurrogate(text[i])) return false;
        }
        return true;
    }

    private static void Walk(JsonElement element, string path, FieldErrors errors)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String when TextOf(element.GetString) is null:
                errors.Add(path.Length == 0 ? "body" : path, NotText);
                break;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    // A name that is not text cannot be part of a path: the object holding it is named instead.
                    if (TextOf(() => property.Name) is not { } name) errors.Add(path.Length == 0 ? "body" : path, "has a property name with the NUL character (U+0000) or a lone surrogate");
                    else Walk(property.Value, path.Length == 0 ? name : $"{path}.{name}", errors);
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

    /// <summary>Throws a 400 for variables (a run's, an estimate's) that are not a JSON object of at most <see cref="MaxVariablesBytes"/>.</summary>
    public static void CheckVariables(JsonElement? variables)
    {
        var errors = new FieldErrors();
        CheckVariables(variables, errors);
        errors.ThrowIfAny();
    }

    /// <summary>Variables must be a JSON object of at most <see cref="MaxVariablesBytes"/>.</summary>
    public static void CheckVariables(JsonElement? variables, FieldErrors errors, string field = "variables")
    {
        if (variables is not { } value || value.ValueKind == JsonValueKind.Null) return;
        if (value.ValueKind != JsonValueKind.Object) errors.Add(field, "must be a JSON object");
        else if (Encoding.UTF8.GetByteCount(value.GetRawText()) > MaxVariablesBytes) errors.Add(field, $"must be at most {MaxVariablesBytes / 1024} KB of JSON");
    }

    /// <summary>
    /// The string, or null when it is not storable text: a NUL, or a lone surrogate (the reader refuses to return one,
    /// with an InvalidOperationException).
    /// </summary>
    private static string? TextOf(Func<string?> read)
    {
        try
        {
            return read() is { } text && IsStorable(text) ? text : null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }
}
