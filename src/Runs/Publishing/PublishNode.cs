using FentaWeb.Domain.Publishing;
using System.Text.Json;
using FentaWeb.Domain.Common;
using FentaWeb.Integrations.Publishing;
using Npgsql;

namespace FentaWeb.Runs.Publishing;

/// <summary>An Output.Publish item filed: its publication's id, or the outcome to report instead (the job ended, a refused target).</summary>
public sealed record FiledPublication(string? PublicationId, NodeOutcome? Instead);

/// <summary>
/// A workflow's Output.Publish node: files a publication of its input video to the accounts its params name (once per
/// node), which the run then publishes as a sub-orchestration; the node's output is the publication's outcome per account.
/// </summary>
public sealed class PublishNode(NpgsqlDataSource db, NodeExecutor executor)
{
    public async Task<FiledPublication> FileAsync(NodeCall call, CancellationToken ct)
    {
        var (work, instead) = await executor.PrepareAsync(call, ct);
        if (work is null) return new FiledPublication(null, instead);
        var (node, _, context) = work;
        var p = context.Params;
        string? Text(string name) => p.TryGetValue(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s ? s : null;
        string[] List(string name) => p.TryGetValue(name, out var v) && v.ValueKind == JsonValueKind.Array ? [.. v.EnumerateArray().Select(e => e.GetString()!)] : [];
        var script = context.Inputs.TryGetValue("script", out var s) && s.ValueKind == JsonValueKind.Object ? s : (JsonElement?)null;
        string? FromScript(string name) => script?.TryGetProperty(name, out var v) == true && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

        var assetId = context.Inputs["video"].GetProperty("video_asset_id").GetString()!;
        var post = new PublishRequest(
            Text("title") ?? FromScript("title") ?? "Untitled", Text("description") ?? FromScript("hook") ?? "", List("hashtags"),
            Text("privacy") ?? "public",
            Text("publish_at") is { } at ? DateTimeOffset.Parse(at, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal) : null,
            !p.TryGetValue("ai_generated", out var ai) || ai.ValueKind != JsonValueKind.False,
            p.TryGetValue("made_for_kids", out var kids) && kids.ValueKind == JsonValueKind.True, Text("mode"));
        string id;
        try
        {
            var targets = await TargetsAsync(context.OrgId, List("integration_ids"), post, ct);
            id = await PublicationStore.FileAsync(db, context.OrgId, null, call.JobId, call.NodeId, assetId, targets, ct);
        }
        catch (FentaException e)
        {
            return new FiledPublication(null, await executor.RecordAsync(call, node, new ActivityResult.Failed(e.Code, e.Message, Permanent: true), ct));
        }
        await context.LogAsync("info", $"Publishing to {List("integration_ids").Length} account(s) as {id}", null, ct);
        return new FiledPublication(id, null);
    }

    /// <summary>The node's outcome once its publication ended: its targets as the output, or a failure naming the accounts that failed.</summary>
    public async Task<NodeOutcome> RecordAsync(NodeCall call, string publicationId, CancellationToken ct)
    {
        var node = (await executor.PlanAsync(call.JobId))!.Nodes[call.NodeId];
        await using var cmd = db.CreateCommand("""
            SELECT p.status, jsonb_agg(jsonb_build_object('id', t.id, 'integration_id', t.integration_id, 'platform', t.platform, 'status', t.status,
                     'platform_video_id', t.platform_video_id, 'url', t.url, 'error', t.error) ORDER BY t.id)
            FROM publications p JOIN publication_targets t ON t.publication_id = p.id WHERE p.id = $1 GROUP BY p.status
            """);
        cmd.Parameters.Add(new() { Value = publicationId });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        var status = reader.GetString(0);
        var targets = JsonDocument.Parse(reader.GetString(1)).RootElement.Clone();
        await reader.CloseAsync();
        if (status == "succeeded")
            return await executor.RecordAsync(call, node, ActivityResult.Done(new { publication_id = publicationId, status, targets }), ct);
        var failed = targets.EnumerateArray().Where(t => t.GetProperty("status").GetString() != "published")
            .Select(t => $"{t.GetProperty("platform").GetString()}: {(t.GetProperty("error").ValueKind == JsonValueKind.Object ? t.GetProperty("error").GetProperty("message").GetString() : t.GetProperty("status").GetString())}");
        return await executor.RecordAsync(call, node, new ActivityResult.Failed("PUBLISH_FAILED",
            $"Publication {publicationId} {status}: {string.Join("; ", failed)}", Permanent: true), ct);
    }

    private async Task<List<TargetRequest>> TargetsAsync(string orgId, string[] integrationIds, PublishRequest post, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("SELECT id, platform FROM integrations WHERE org_id = $1 AND id = ANY($2) AND status <> 'revoked'");
        cmd.Parameters.Add(new() { Value = orgId });
        cmd.Parameters.Add(new() { Value = integrationIds });
        var platforms = new Dictionary<string, string>();
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct)) platforms[reader.GetString(0)] = reader.GetString(1);
        var errors = new FieldErrors();
        var targets = new List<TargetRequest>();
        for (var i = 0; i < integrationIds.Length; i++)
        {
            if (!platforms.TryGetValue(integrationIds[i], out var platform))
            {
                errors.Add($"params.integration_ids[{i}]", $"no connected account '{integrationIds[i]}' exists in this organization");
                continue;
            }
            targets.Add(new TargetRequest(integrationIds[i], post with { Privacy = Privacy.Native(platform, post.Privacy, $"params.privacy", errors) }));
        }
        errors.ThrowIfAny();
        return targets;
    }
}

/// <summary>
/// Privacy levels: each platform's own, or the general ones (public, unlisted, private) a workflow names, taken to the
/// platform's level for them.
/// </summary>
public static class Privacy
{
    public static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> Levels = new Dictionary<string, IReadOnlyList<string>>
    {
        [Platforms.YouTube] = ["public", "unlisted", "private"],
        [Platforms.TikTok] = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"],
        [Platforms.Instagram] = ["public"],
    };

    /// <summary>The platform's level for <paramref name="value"/>; an error naming <paramref name="field"/> when it has none.</summary>
    public static string Native(string platform, string value, string field, FieldErrors errors)
    {
        var levels = Levels[platform];
        if (levels.Contains(value)) return value;
        var mapped = (platform, value) switch
        {
            (Platforms.TikTok, "public") => "PUBLIC_TO_EVERYONE",
            (Platforms.TikTok, "private") => "SELF_ONLY",
            _ => null,
        };
        if (mapped is not null) return mapped;
        errors.Add(field, $"{platform} takes privacy {string.Join(", ", levels)}{(platform == Platforms.TikTok ? " (or public, private)" : "")}; '{value}' has no equivalent there");
        return value;
    }
}
