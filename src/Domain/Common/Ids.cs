namespace FentaWeb.Domain.Common;

/// <summary>Prefixed, time-ordered ids (<c>wf_0193…</c>): readable in logs and sortable for cursor pagination.</summary>
public static class Ids
{
    public static string New(string prefix) => $"{prefix}_{Guid.CreateVersion7():N}";
}
