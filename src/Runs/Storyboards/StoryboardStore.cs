using System.Data;
using System.Text.Json;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Scripts;
using FentaWeb.Domain.Storyboards;
using Npgsql;
using NpgsqlTypes;

namespace FentaWeb.Runs.Storyboards;

/// <summary>A storyboard held under its row lock until <see cref="SaveAsync"/> or disposal (which rolls back).</summary>
public sealed class StoryboardLock(NpgsqlConnection connection, NpgsqlTransaction tx, Storyboard storyboard) : IAsyncDisposable
{
    public Storyboard Storyboard { get; } = storyboard;

    public async Task SaveAsync(CancellationToken ct)
    {
        await StoryboardStore.UpdateAsync(connection, Storyboard, ct);
        await tx.CommitAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        await tx.DisposeAsync();
        await connection.DisposeAsync();
    }
}

/// <summary>
/// Storyboards in PostgreSQL. The jobs that plan, draw and render them write only their own rows (node_runs,
/// kai_generations, assets); a storyboard takes a job's outcome when it is next read after the job ended, under its row
/// lock, once (the job id is cleared as the outcome is taken). So nothing is lost when a worker or the API dies at any
/// point, no job needs to know about storyboards, and reading twice changes nothing twice. While the plan job runs, a
/// read shows its progress (the script's scenes, the images drawn so far) without storing it.
/// </summary>
public sealed class StoryboardStore(NpgsqlDataSource db, TimeProvider clock)
{
    /// <summary>The plan job's node ids: its script, and its images (one item per scene).</summary>
    public const string ScriptNode = "script", ImagesNode = "images";
    /// <summary>A regeneration job's one node, and a render job's render node.</summary>
    public const string GenerateNode = "generate", RenderNode = "render";

    /// <summary>How long a plan may take to be recorded as started before the storyboard is given up as failed (JobStarter owes a run within a minute).</summary>
    public static readonly TimeSpan PlanStartGrace = TimeSpan.FromMinutes(2);

    private const string Columns = "id, org_id, created_by, title, description, settings, scenes, status, error, job_id, render, total_credits_used, created_at, updated_at";

    public async Task InsertAsync(Storyboard s, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            INSERT INTO storyboards (id, org_id, created_by, title, description, settings, scenes, status, job_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            """);
        cmd.Parameters.Add(new() { Value = s.Id });
        cmd.Parameters.Add(new() { Value = s.OrgId });
        cmd.Parameters.Add(new() { Value = (object?)s.CreatedBy ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = s.Title });
        cmd.Parameters.Add(new() { Value = s.Description });
        cmd.Parameters.Add(Json(s.Settings));
        cmd.Parameters.Add(Json(s.Scenes));
        cmd.Parameters.Add(new() { Value = s.Status });
        cmd.Parameters.Add(new() { Value = (object?)s.JobId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The storyboard with its jobs' outcomes taken, locked for a change; null when the org has no such storyboard.</summary>
    public async Task<StoryboardLock?> LockAsync(string orgId, string id, CancellationToken ct)
    {
        var connection = await db.OpenConnectionAsync(ct);
        try
        {
            var tx = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
            await using var cmd = new NpgsqlCommand($"SELECT {Columns} FROM storyboards WHERE id = $1 AND org_id = $2 FOR UPDATE", connection, tx);
            cmd.Parameters.Add(new() { Value = id });
            cmd.Parameters.Add(new() { Value = orgId });
            Storyboard? storyboard;
            await using (var reader = await cmd.ExecuteReaderAsync(ct))
                storyboard = await reader.ReadAsync(ct) ? Read(reader) : null;
            if (storyboard is null)
            {
                await tx.DisposeAsync();
                await connection.DisposeAsync();
                return null;
            }
            await SyncAsync(connection, storyboard, ct);
            return new StoryboardLock(connection, tx, storyboard);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>The storyboard as it stands (outcomes of ended jobs taken and stored; a running plan's progress shown).</summary>
    public async Task<Storyboard?> FindAsync(string orgId, string id, CancellationToken ct)
    {
        await using var locked = await LockAsync(orgId, id, ct);
        if (locked is null) return null;
        await locked.SaveAsync(ct);
        return locked.Storyboard;
    }

    /// <summary>A page of the org's storyboards, newest first (ids are time-ordered).</summary>
    public async Task<List<Storyboard>> ListAsync(string orgId, string? after, int take, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand($"""
            SELECT {Columns} FROM storyboards WHERE org_id = $1 AND ($2::text IS NULL OR id < $2) ORDER BY id DESC LIMIT $3
            """);
        cmd.Parameters.Add(new() { Value = orgId });
        cmd.Parameters.Add(new() { Value = (object?)after ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = take });
        var rows = new List<Storyboard>();
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct)) rows.Add(Read(reader));
        // Those waiting on a job are read again through the lock, so the list shows what a GET shows.
        for (var i = 0; i < rows.Count; i++)
            if (Waiting(rows[i]) && await FindAsync(orgId, rows[i].Id, ct) is { } current) rows[i] = current;
        return rows;
    }

    public async Task<bool> DeleteAsync(string orgId, string id, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("DELETE FROM storyboards WHERE id = $1 AND org_id = $2");
        cmd.Parameters.Add(new() { Value = id });
        cmd.Parameters.Add(new() { Value = orgId });
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }

    private static bool Waiting(Storyboard s) =>
        s.Status is StoryboardStatus.Generating or StoryboardStatus.Rendering || s.Scenes.Any(x => x.Status == SceneStatus.Generating);

    internal static async Task UpdateAsync(NpgsqlConnection connection, Storyboard s, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            UPDATE storyboards SET title = $2, scenes = coalesce($3, scenes), status = $4, error = $5, render = $6, total_credits_used = $7, job_id = $8, updated_at = now()
            WHERE id = $1 AND (title, scenes, status, error, render, total_credits_used, job_id) IS DISTINCT FROM ($2, coalesce($3, scenes), $4, $5, $6, $7, $8)
            RETURNING updated_at
            """, connection);
        cmd.Parameters.Add(new() { Value = s.Id });
        cmd.Parameters.Add(new() { Value = s.Title });
        // A running plan's progress is shown, not stored (the stored scenes, if given at creation, stay): the plan's scenes are taken when it ends.
        cmd.Parameters.Add(s.Status == StoryboardStatus.Generating ? new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Jsonb } : Json(s.Scenes));
        cmd.Parameters.Add(new() { Value = s.Status });
        cmd.Parameters.Add(new() { Value = (object?)s.Error ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(s.Render is null ? new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Jsonb } : Json(s.Render));
        cmd.Parameters.Add(new() { Value = s.TotalCreditsUsed });
        cmd.Parameters.Add(new() { Value = (object?)s.JobId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        if (await cmd.ExecuteScalarAsync(ct) is DateTime updated) s.UpdatedAt = new DateTimeOffset(updated, TimeSpan.Zero);
    }

    private static NpgsqlParameter Json<T>(T value) => new() { Value = JsonSerializer.Serialize(value, FentaJson.Options), NpgsqlDbType = NpgsqlDbType.Jsonb };

    private static Storyboard Read(NpgsqlDataReader r) => new()
    {
        Id = r.GetString(0),
        OrgId = r.GetString(1),
        CreatedBy = r.IsDBNull(2) ? null : r.GetString(2),
        Title = r.GetString(3),
        Description = r.GetString(4),
        Settings = JsonSerializer.Deserialize<StoryboardSettings>(r.GetString(5), FentaJson.Options)!,
        Scenes = JsonSerializer.Deserialize<List<StoryboardScene>>(r.GetString(6), FentaJson.Options)!,
        Status = r.GetString(7),
        Error = r.IsDBNull(8) ? null : r.GetString(8),
        JobId = r.IsDBNull(9) ? null : r.GetString(9),
        Render = r.IsDBNull(10) ? null : JsonSerializer.Deserialize<StoryboardRender>(r.GetString(10), FentaJson.Options),
        TotalCreditsUsed = r.GetInt32(11),
        CreatedAt = r.GetFieldValue<DateTimeOffset>(12),
        UpdatedAt = r.GetFieldValue<DateTimeOffset>(13),
    };

    private sealed record JobState(string Status, string? Error, int Credits)
    {
        public bool Ended => Status is "completed" or "failed" or "cancelled";
        /// <summary>Retention forgot the job before anyone read its outcome.</summary>
        public static readonly JobState Gone = new("failed", "The job is no longer kept.", 0);
    }

    private static async Task<JobState> JobAsync(NpgsqlConnection c, string jobId, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT status, error->>'message', cost_kai_credits FROM jobs WHERE id = $1", c);
        cmd.Parameters.Add(new() { Value = jobId });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? new JobState(r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1), r.GetInt32(2)) : JobState.Gone;
    }

    private sealed record ItemRow(int Item, string Status, JsonElement? Output, string? Error, string? GenerationId);

    /// <summary>The items of node <paramref name="nodeId"/> of a job (a fanned-out node's items, or its one run), with their generations.</summary>
    private static async Task<List<ItemRow>> ItemsAsync(NpgsqlConnection c, string jobId, string nodeId, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            SELECT r.item_index, r.status, r.output, r.error->>'message', g.id
            FROM node_runs r LEFT JOIN kai_generations g ON g.job_id = r.job_id AND g.node_id = r.node_id AND g.item_index = r.item_index
            WHERE r.job_id = $1 AND r.node_id = $2 AND r.item_index >= 0 ORDER BY r.item_index
            """, c);
        cmd.Parameters.Add(new() { Value = jobId });
        cmd.Parameters.Add(new() { Value = nodeId });
        var rows = new List<ItemRow>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
            rows.Add(new ItemRow(r.GetInt32(0), r.GetString(1), r.IsDBNull(2) ? null : JsonDocument.Parse(r.GetString(2)).RootElement.Clone(),
                r.IsDBNull(3) ? null : r.GetString(3), r.IsDBNull(4) ? null : r.GetString(4)));
        return rows;
    }

    /// <summary>The first asset of a media output (a generation's list of media items).</summary>
    private static string? FirstAsset(JsonElement? output) =>
        output is { ValueKind: JsonValueKind.Array } list && list.GetArrayLength() > 0 && list[0].TryGetProperty("asset_id", out var id) ? id.GetString() : null;

    /// <summary>Takes the outcomes of the storyboard's jobs that have ended; shows a running plan's progress.</summary>
    private async Task SyncAsync(NpgsqlConnection c, Storyboard s, CancellationToken ct)
    {
        // The plan was started but not recorded (the API stopped in between): its Idempotency-Key finds it.
        if (s.Status == StoryboardStatus.Generating && s.JobId is null)
        {
            await using var find = new NpgsqlCommand("SELECT id FROM jobs WHERE org_id = $1 AND idempotency_key = $2", c);
            find.Parameters.Add(new() { Value = s.OrgId });
            find.Parameters.Add(new() { Value = s.PlanKey });
            s.JobId = (string?)await find.ExecuteScalarAsync(ct);
            if (s.JobId is null && clock.GetUtcNow() - s.CreatedAt > PlanStartGrace)
            {
                s.Status = StoryboardStatus.Failed;
                s.Error = "The plan was never started (the server stopped first); create the storyboard again.";
            }
        }
        if (s.Status == StoryboardStatus.Generating && s.JobId is { } planJob)
        {
            var job = await JobAsync(c, planJob, ct);
            s.Scenes = await PlanScenesAsync(c, s, planJob, job.Ended, ct);
            if (job.Ended)
            {
                s.Status = s.Scenes.Count > 0 ? StoryboardStatus.Ready : StoryboardStatus.Failed;
                s.Error = job.Status == "completed" ? null : job.Error ?? $"The plan job was {job.Status}.";
                s.TotalCreditsUsed += job.Credits;
            }
        }
        for (var i = 0; i < s.Scenes.Count; i++)
        {
            var scene = s.Scenes[i];
            if (scene.Status != SceneStatus.Generating || scene.JobId is not { } jobId || jobId == s.JobId) continue;
            var job = await JobAsync(c, jobId, ct);
            if (!job.Ended) continue;
            var item = (await ItemsAsync(c, jobId, GenerateNode, ct)).FirstOrDefault();
            var asset = item?.Status == "succeeded" ? FirstAsset(item.Output) : null;
            s.Scenes[i] = asset is null
                ? scene with { Status = SceneStatus.Failed, JobId = null, Error = item?.Error ?? job.Error ?? $"The generation was {job.Status}." }
                : scene with { Status = SceneStatus.Ready, JobId = null, ImageAssetId = asset, GenerationId = item!.GenerationId ?? scene.GenerationId, Error = null };
            s.TotalCreditsUsed += job.Credits;
        }
        if (s.Status == StoryboardStatus.Rendering && s.Render is { Status: "processing" } render)
        {
            var job = await JobAsync(c, render.JobId, ct);
            if (job.Ended)
            {
                var video = (await ItemsAsync(c, render.JobId, RenderNode, ct)).FirstOrDefault() is { Status: "succeeded", Output: { } output }
                            && output.TryGetProperty("video_asset_id", out var v) ? v.GetString() : null;
                s.Render = render with { Status = video is null ? "failed" : "completed", VideoAssetId = video, Error = video is null ? job.Error ?? $"The render job was {job.Status}." : null };
                s.Status = StoryboardStatus.Ready;
                s.TotalCreditsUsed += job.Credits;
            }
        }
    }

    /// <summary>
    /// The plan job's scenes: the script's, each with its image once drawn. Durations given at creation are kept; the
    /// others follow the narration. Once the job has ended, a scene without an image failed (regenerate it).
    /// </summary>
    private static async Task<List<StoryboardScene>> PlanScenesAsync(NpgsqlConnection c, Storyboard s, string jobId, bool ended, CancellationToken ct)
    {
        var scriptRun = (await ItemsAsync(c, jobId, ScriptNode, ct)).FirstOrDefault();
        if (scriptRun is not { Status: "succeeded", Output: { } output }) return ended ? [] : s.Scenes;
        var script = output.Deserialize<Script>(FentaJson.Options)!;
        if (ended && s.Title.Length == 0) s.Title = script.Title;
        var images = (await ItemsAsync(c, jobId, ImagesNode, ct)).ToDictionary(i => i.Item);
        return [.. script.Scenes.Select((scene, i) =>
        {
            var given = i < s.Scenes.Count ? s.Scenes[i] : null;
            var image = images.GetValueOrDefault(i);
            var asset = image?.Status == "succeeded" ? FirstAsset(image.Output) : null;
            var status = asset is not null ? SceneStatus.Ready : ended || image?.Status is "failed" or "cancelled" ? SceneStatus.Failed : SceneStatus.Generating;
            return new StoryboardScene(given?.Id ?? $"scene-{i + 1}", scene.Narration, scene.VisualPrompt, given?.DurationSeconds ?? Storyboard.PlannedSeconds(scene.Narration),
                status, asset, image?.GenerationId, status == SceneStatus.Generating ? jobId : null,
                status == SceneStatus.Failed ? image?.Error ?? "No image was made for this scene." : null);
        })];
    }
}
