using System.Globalization;
using System.Text.Json;
using FentaWeb.Domain.Common;

namespace FentaWeb.Domain.Workflows;

public enum ParamKind { String, Integer, Number, Boolean, Enum, StringList, Object }

/// <summary>What a param refers to outside the graph, so the API can check it exists in the caller's org.</summary>
public enum ParamReference { None, Template, Asset, Integration }

/// <summary>One node parameter: its type, limits and default. Also the schema clients render forms from.</summary>
public sealed record ParamSpec(
    string Name,
    ParamKind Kind,
    string Description,
    bool Required = false,
    JsonElement? Default = null,
    double? Min = null,
    double? Max = null,
    int? MaxLength = null,
    IReadOnlyList<string>? Values = null,
    ParamReference Reference = ParamReference.None)
{
    public static ParamSpec Text(string name, string description, bool required = false, string? @default = null, int maxLength = 500,
        ParamReference reference = ParamReference.None) =>
        new(name, ParamKind.String, description, required, Json(@default), MaxLength: maxLength, Reference: reference);

    public static ParamSpec Choice(string name, string description, IReadOnlyList<string> values, string? @default = null, bool required = false) =>
        new(name, ParamKind.Enum, description, required, Json(@default), Values: values);

    public static ParamSpec Int(string name, string description, int min, int max, int? @default = null, bool required = false) =>
        new(name, ParamKind.Integer, description, required, Json(@default), min, max);

    public static ParamSpec Number(string name, string description, double min, double max, double? @default = null) =>
        new(name, ParamKind.Number, description, false, Json(@default), min, max);

    public static ParamSpec Flag(string name, string description, bool @default) =>
        new(name, ParamKind.Boolean, description, false, Json(@default));

    public static ParamSpec List(string name, string description, int maxItems, bool required = false, int maxLength = 200,
        ParamReference reference = ParamReference.None) =>
        new(name, ParamKind.StringList, description, required, Max: maxItems, MaxLength: maxLength, Reference: reference);

    private static JsonElement? Json<T>(T? value) => value is null ? null : JsonSerializer.SerializeToElement(value);

    /// <summary>Checks one supplied value; adds an error naming <paramref name="field"/> if it is not acceptable.</summary>
    public void Check(JsonElement value, string field, string nodeId, FieldErrors errors)
    {
        switch (Kind)
        {
            case ParamKind.String:
                if (value.ValueKind != JsonValueKind.String) { errors.Add(field, "must be a string", nodeId); return; }
                CheckText(value.GetString()!, field, nodeId, errors);
                break;
            case ParamKind.Enum:
                if (value.ValueKind != JsonValueKind.String || !Values!.Contains(value.GetString()!))
                    errors.Add(field, $"must be one of: {string.Join(", ", Values!)}", nodeId);
                break;
            case ParamKind.Object:
                if (value.ValueKind != JsonValueKind.Object) errors.Add(field, "must be an object", nodeId);
                break;
            case ParamKind.Boolean:
                if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) errors.Add(field, "must be true or false", nodeId);
                break;
            case ParamKind.Integer:
                if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var whole)) { errors.Add(field, "must be an integer", nodeId); return; }
                CheckRange(whole, field, nodeId, errors);
                break;
            case ParamKind.Number:
                if (value.ValueKind != JsonValueKind.Number) { errors.Add(field, "must be a number", nodeId); return; }
                CheckRange(value.GetDouble(), field, nodeId, errors);
                break;
            case ParamKind.StringList:
                if (value.ValueKind != JsonValueKind.Array) { errors.Add(field, "must be an array of strings", nodeId); return; }
                var count = value.GetArrayLength();
                if (Required && count == 0) errors.Add(field, "must not be empty", nodeId);
                if (Max is { } maxItems && count > maxItems) errors.Add(field, $"must have at most {maxItems} items", nodeId);
                var i = 0;
                foreach (var item in value.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.String) errors.Add($"{field}[{i}]", "must be a string", nodeId);
                    else CheckText(item.GetString()!, $"{field}[{i}]", nodeId, errors);
                    i++;
                }
                break;
        }
    }

    private void CheckText(string text, string field, string nodeId, FieldErrors errors)
    {
        if (Required && string.IsNullOrWhiteSpace(text)) errors.Add(field, "must not be empty", nodeId);
        else if (MaxLength is { } max && text.Length > max) errors.Add(field, $"must be at most {max} characters", nodeId);
    }

    private void CheckRange(double number, string field, string nodeId, FieldErrors errors)
    {
        if ((Min is { } min && number < min) || (Max is { } max && number > max))
            errors.Add(field, $"must be between {Format(Min)} and {Format(Max)}", nodeId);
    }

    private static string Format(double? n) => n?.ToString(CultureInfo.InvariantCulture) ?? "-";
}
