using System.Security.Cryptography;
using System.Text.Json;
using FentaWeb.Domain.Billing;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Media;
using Npgsql;
using NpgsqlTypes;

namespace FentaWeb.Runs.Kie;

public sealed record KieGenerationDto(string Id, string JobId, string Type, string Model, string? Provider, string Prompt, JsonElement Params,
    string Status, string? ExternalId, IReadOnlyList<string> ResultAssetIds, int CreditsUsed, JsonElement? Error, DateTimeOffset CreatedAt,
    DateTimeOffset? CompletedAt);

/// <summary>
/// The <c>kai_generations</c> table, its one owner: a row a node item's generation (one per job, node and item),
/// written by the local activity and the KIE steps, found by KIE's callback, and read by the API. A direct generation
/// (<c>/v1/kai/generate-*</c>) is the row of its single-node job's item.
/// </summary>
public sealed class KieGenerations(NpgsqlDataSource db)
{
    /// <summary>The KIE task this attempt recorded before (a repeated create): its id and when it was created.</summary>
    public async Task<(string TaskId, DateTime SubmittedUtc)?> OpenTaskAsync(NodeCall call, CancellationToken ct)
    {
        await using var cmd = Command(call, """
            SELECT external_id, updated_at FROM kai_generations
            WHERE job_id = $1 AND node_id = $2 AND item_index = $3 AND attempt = $4 AND status = 'processing' AND external_id IS NOT NULL
            """, call.Attempt);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? (reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(1).UtcDateTime) : null;
    }

    /// <summary>
    /// The org's latest completed generation with <paramref name="reuseKey"/>, of another job, whose files are all still
    /// kept: its id and its files as media tagged <paramref name="tags"/>; null when there is none.
    /// </summary>
    public async Task<(string Source, List<MediaItem> Media)?> ReusableAsync(NodeCall call, string orgId, string reuseKey, string[] tags, CancellationToken ct)
    {
        await using var cmd = Command(call, """
            WITH source AS (
              SELECT g.id, g.result_asset_ids FROM kai_generations g
              WHERE g.org_id = $4 AND g.reuse_key = $5 AND g.status = 'completed' AND cardinality(g.result_asset_ids) > 0
                AND g.job_id IS DISTINCT FROM $1
                AND NOT EXISTS (SELECT 1 FROM unnest(g.result_asset_ids) r(asset_id)
                                WHERE NOT EXISTS (SELECT 1 FROM assets a WHERE a.id = r.asset_id AND a.deleted_at IS NULL))
              ORDER BY g.completed_at DESC LIMIT 1)
            SELECT s.id, a.id, a.type, a.duration_seconds, a.width, a.height
            FROM source s, unnest(s.result_asset_ids) WITH ORDINALITY r(asset_id, n) JOIN assets a ON a.id = r.asset_id
            ORDER BY r.n
            """, orgId, reuseKey);
        string? source = null;
        var media = new List<MediaItem>();
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct))
            {
                source = reader.GetString(0);
                media.Add(StoredItem(reader, tags));
            }
        return source is null ? null : (source, media);
    }

    /// <summary>
    /// This attempt's generation starts (queued, no task yet): the row is written, or the item's row of an earlier
    /// attempt taken over. <paramref name="token"/> is the secret of its callback URL. <paramref name="credits"/>: what it
    /// is expected to cost when that is not the model's price of its input (speech is priced by its text).
    /// </summary>
    public async Task StartAsync(NodeCall call, string orgId, GenerationRequest request, string provider, string? reuseKey, string token, CancellationToken ct,
        int? credits = null)
    {
        await using var cmd = db.CreateCommand("""
            INSERT INTO kai_generations (id, org_id, job_id, node_id, item_index, type, model, provider, prompt, params, status, attempt, callback_token, credits_used, reuse_key)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'queued', $11, $12, $13, $14)
            ON CONFLICT (job_id, node_id, item_index) DO UPDATE
              SET provider = EXCLUDED.provider, prompt = EXCLUDED.prompt, params = EXCLUDED.params, status = 'queued', attempt = EXCLUDED.attempt,
                  callback_token = EXCLUDED.callback_token, reuse_key = EXCLUDED.reuse_key,
                  external_id = NULL, error = NULL, updated_at = now()
            """);
        foreach (var value in new object[] { Ids.New("gen"), orgId, call.JobId, call.NodeId, call.Item, request.Kind, request.Model.Id, provider, request.Prompt })
            cmd.Parameters.Add(new() { Value = value });
        cmd.Parameters.Add(new() { Value = request.Input.ToJsonString(), NpgsqlDbType = NpgsqlDbType.Jsonb });
        cmd.Parameters.Add(new() { Value = call.Attempt });
        cmd.Parameters.Add(new() { Value = token });
        cmd.Parameters.Add(new() { Value = provider == "kie" ? credits ?? request.Model.Credits(request.Input) : 0 });
        cmd.Parameters.Add(new() { Value = (object?)reuseKey ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>KIE took the task: the row is processing, with its task id.</summary>
    public async Task SubmittedAsync(NodeCall call, string taskId, DateTime submittedUtc, CancellationToken ct)
    {
        await using var cmd = Command(call, """
            UPDATE kai_generations SET external_id = $4, status = 'processing', updated_at = $5
            WHERE job_id = $1 AND node_id = $2 AND item_index = $3
            """, taskId, new DateTimeOffset(submittedUtc));
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// What the item's row says of the task: its status, and its result media when completed (a worker died after
    /// finishing but before completing the node).
    /// </summary>
    public async Task<(string? Status, List<MediaItem> Results)> RecordedAsync(NodeCall call, string taskId, CancellationToken ct)
    {
        await using var cmd = Command(call, """
            SELECT g.status, a.id, a.type, a.duration_seconds, a.width, a.height
            FROM kai_generations g
            LEFT JOIN LATERAL unnest(g.result_asset_ids) WITH ORDINALITY AS r(asset_id, n) ON g.status = 'completed'
            LEFT JOIN assets a ON a.id = r.asset_id
            WHERE g.job_id = $1 AND g.node_id = $2 AND g.item_index = $3 AND g.external_id = $4
            ORDER BY r.n
            """, taskId);
        string? status = null;
        var media = new List<MediaItem>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            status = reader.GetString(0);
            if (!reader.IsDBNull(1)) media.Add(StoredItem(reader, ["generated"]));
        }
        return (status, media);
    }

    /// <summary>The generation completed with <paramref name="media"/>, costing <paramref name="credits"/> KIE credits.</summary>
    public async Task CompleteAsync(NodeCall call, IReadOnlyList<MediaItem> media, int credits, CancellationToken ct)
    {
        // The generation's credits are metered once, as the org's usage record of this node item (a worker that died
        // after finishing runs this again and finds the record there), priced at the org's plan, and only then added to
        // the job's: an increment under the job row's lock, so parallel items of one node all count. The credits'
        // reservation is settled in the same statement.
        var perCredit = credits > 0 ? (await Metering.PricesOfJobAsync(db, call.JobId, ct)).PerKaiCredit : 0;
        await using var cmd = Command(call, $"""
            WITH done AS (
              UPDATE kai_generations SET status = 'completed', result_asset_ids = $4, credits_used = $5, completed_at = now(), updated_at = now()
              WHERE job_id = $1 AND node_id = $2 AND item_index = $3 RETURNING model),
            settled AS ({Reservations.ReleaseItemSql}),
            recorded AS (
              INSERT INTO usage_records (id, org_id, user_id, job_id, node_id, item_index, resource_type, kai_credits, kai_model, cost_usd)
              SELECT fenta_id('usage'), j.org_id, j.created_by, j.id, $2, $3, 'kai_credits', $5, (SELECT model FROM done), $5 * $6
              FROM jobs j WHERE j.id = $1 AND $5 > 0 AND EXISTS (SELECT 1 FROM done)
              ON CONFLICT (job_id, node_id, item_index, resource_type) WHERE job_id IS NOT NULL DO NOTHING
              RETURNING cost_usd),
            {Metering.CostFollowsUsageSql}
            UPDATE jobs j SET cost_kai_credits = j.cost_kai_credits + $5, cost_total_usd = j.cost_total_usd + r.cost_usd FROM recorded r WHERE j.id = $1
            RETURNING (SELECT model FROM done)
            """, media.Select(m => m.AssetId).ToArray(), credits, perCredit);
        // Counted once, with the job's cost: a repeated completion records nothing new.
        if (await cmd.ExecuteScalarAsync(ct) is string model) Telemetry.KieCredits.Add(credits, new KeyValuePair<string, object?>("fenta.model", model));
    }

    /// <summary>The generation failed; returns the failure to report.</summary>
    public async Task<ActivityResult.Failed> FailAsync(NodeCall call, string code, string message, bool permanent, CancellationToken ct)
    {
        // A failed generation costs nothing: its reserved credits are refunded with the failure.
        await using var cmd = Command(call, $"""
            WITH refunded AS ({Reservations.ReleaseItemSql})
            UPDATE kai_generations SET status = 'failed', error = jsonb_build_object('code', $4::text, 'message', $5::text), updated_at = now()
            WHERE job_id = $1 AND node_id = $2 AND item_index = $3
            """, code, message);
        await cmd.ExecuteNonQueryAsync(ct);
        return new ActivityResult.Failed(code, message, permanent);
    }

    /// <summary>
    /// A direct generation's row, written when its job starts so that it can be read at once (its activity fills in
    /// the rest, with a callback token of its own). <paramref name="parameters"/> is the node's params as JSON.
    /// </summary>
    public async Task RecordDirectAsync(string id, string orgId, string jobId, string kind, string model, string prompt, string parameters, CancellationToken ct)
    {
        var token = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        await using var cmd = db.CreateCommand("""
            INSERT INTO kai_generations (id, org_id, job_id, node_id, item_index, type, model, provider, prompt, params, callback_token)
            VALUES ($1, $2, $3, 'generate', 0, $4, $5, NULL, $6, $7::jsonb, $8)
            ON CONFLICT (job_id, node_id, item_index) DO UPDATE SET id = EXCLUDED.id
            """);
        foreach (var value in new object[] { id, orgId, jobId, kind, model, prompt, parameters, token })
            cmd.Parameters.Add(new() { Value = value });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>KIE called back with <paramref name="token"/>: noted on its row; the node item it wakes, or null for no such row.</summary>
    public async Task<NodeCall?> CalledBackAsync(string token, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            UPDATE kai_generations SET callback_at = now(), updated_at = now() WHERE callback_token = $1
            RETURNING job_id, node_id, item_index
            """);
        cmd.Parameters.Add(new() { Value = token });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) && !reader.IsDBNull(0) ? new NodeCall(reader.GetString(0), reader.GetString(1), reader.GetInt32(2)) : null;
    }

    /// <summary>The org's generations, newest first, from before <paramref name="after"/>, at most <paramref name="take"/>.</summary>
    public async Task<List<KieGenerationDto>> ListAsync(string orgId, string? after, string? status, string? type, int take, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand($"""
            {Select} WHERE org_id = $1 AND ($2::text IS NULL OR id < $2) AND ($3::text IS NULL OR status = $3) AND ($4::text IS NULL OR type = $4)
            ORDER BY id DESC LIMIT $5
            """);
        foreach (var value in new object?[] { orgId, after, status, type, take })
            cmd.Parameters.Add(new() { Value = value ?? DBNull.Value });
        var rows = new List<KieGenerationDto>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) rows.Add(Read(reader));
        return rows;
    }

    public async Task<KieGenerationDto?> FindAsync(string orgId, string id, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand($"{Select} WHERE id = $1 AND org_id = $2");
        cmd.Parameters.Add(new() { Value = id });
        cmd.Parameters.Add(new() { Value = orgId });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }

    // A generation whose job failed or was cancelled before its activity recorded an outcome reports the job's.
    private const string Select = """
        SELECT * FROM (
          SELECT g.id, g.job_id, g.type, g.model, g.provider, g.prompt, g.params::text AS params,
                 CASE WHEN g.status IN ('queued', 'processing') AND j.status IN ('failed', 'cancelled') THEN 'failed' ELSE g.status END AS status,
                 g.external_id, g.result_asset_ids, g.credits_used,
                 coalesce(g.error, CASE WHEN j.status IN ('failed', 'cancelled') THEN j.error END)::text AS error, g.created_at, g.completed_at, g.org_id
          FROM kai_generations g LEFT JOIN jobs j ON j.id = g.job_id) generation
        """;

    private static KieGenerationDto Read(NpgsqlDataReader reader) =>
        new(reader.GetString(0), reader.IsDBNull(1) ? "" : reader.GetString(1), reader.GetString(2), reader.GetString(3),
            reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetString(5), JsonDocument.Parse(reader.GetString(6)).RootElement, reader.GetString(7),
            reader.IsDBNull(8) ? null : reader.GetString(8), reader.GetFieldValue<string[]>(9), reader.GetInt32(10),
            reader.IsDBNull(11) ? null : JsonDocument.Parse(reader.GetString(11)).RootElement, reader.GetFieldValue<DateTimeOffset>(12),
            reader.IsDBNull(13) ? null : reader.GetFieldValue<DateTimeOffset>(13));

    /// <summary>A command on a node item's row: $1-$3 are job, node and item; <paramref name="values"/> follow as $4….</summary>
    private NpgsqlCommand Command(NodeCall call, string sql, params object[] values)
    {
        var cmd = db.CreateCommand(sql);
        foreach (var value in new object[] { call.JobId, call.NodeId, call.Item }.Concat(values))
            cmd.Parameters.Add(new() { Value = value });
        return cmd;
    }

    /// <summary>A stored asset as a media item, from columns 1-5: id, type, duration_seconds, width, height.</summary>
    private static MediaItem StoredItem(NpgsqlDataReader reader, string[] tags) =>
        new(reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : (double)reader.GetDecimal(3),
            reader.IsDBNull(4) ? null : reader.GetInt32(4), reader.IsDBNull(5) ? null : reader.GetInt32(5), tags);
}
