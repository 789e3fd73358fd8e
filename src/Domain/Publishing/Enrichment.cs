using System.Text.Json;
using FentaWeb.Domain.Billing;
using FentaWeb.Domain.Common;
using Npgsql;
using NpgsqlTypes;

namespace FentaWeb.Domain.Publishing;

/// <summary>
/// What a finished job gives the writer: its final script (Script.Transform's output, else Script.Generate's), the
/// transcript of its subtitles (Subtitle.Auto's cues), the template's and workflow's names and the job's variables.
/// </summary>
public sealed record EnrichmentSource(
    string JobId,
    string? ScriptTitle,
    string? Hook,
    IReadOnlyList<string> Narration,
    IReadOnlyList<string> ScriptHashtags,
    string? Transcript,
    string? TemplateName,
    string? WorkflowName,
    string? Topic,
    IReadOnlyDictionary<string, string> Variables,
    string? Lang,
    string? Genre)
{
    /// <summary>The spoken text: the script's scenes, else the subtitles' transcript.</summary>
    public string Text => Narration.Count > 0 ? string.Join(" ", Narration) : Transcript ?? "";
}

/// <summary>What the caller asked for: which platforms, in which language, with what extra guidance (LLM only).</summary>
public sealed record EnrichmentRequest(IReadOnlyList<string> Platforms, string Language, string? Instructions);

/// <summary>One platform's metadata, after <see cref="EnrichmentRules"/>.</summary>
public sealed record PlatformMetadata(string Platform, string Title, string Description, IReadOnlyList<string> Hashtags);

/// <summary>A writer's answer: one entry per asked platform (before the rules), the model, and the LLM tokens it took.</summary>
public sealed record MetadataDraft(IReadOnlyList<PlatformMetadata> Items, string Model, int PromptTokens = 0, int OutputTokens = 0);

/// <summary>Writes titles, descriptions and hashtags: the chat LLM when configured, else <see cref="ExtractiveMetadataWriter"/>.</summary>
public interface IMetadataWriter
{
    Task<MetadataDraft> WriteAsync(EnrichmentSource source, EnrichmentRequest request, CancellationToken ct);
}

/// <summary>A reserved enrichment: its row and the number its usage record is filed under.</summary>
public sealed record EnrichmentReservation(string Id, int Seq, Plan Plan, DateTimeOffset ResetsAt);

/// <summary>
/// Enrichment's storage: the job's inputs, and the monthly allowance. A generation reserves its row under the org's
/// advisory lock (counting the month's completed rows and those in flight), so two requests at the last allowance do
/// not both pass; the row is completed with the answer and its tokens, or released when writing failed.
/// </summary>
public static class Enrichments
{
    /// <summary>
    /// The rows that count against an org's month, as <c>FROM …</c>, alias <c>e</c>, for org <c>o.id</c> and the period
    /// <c>[$2, $3)</c>: completed ones, and reservations still in flight (one left by a process that died stops counting
    /// after ten minutes).
    /// </summary>
    public const string CountedSql = """
        enrichments e WHERE e.org_id = o.id AND e.created_at >= $2 AND e.created_at < $3
          AND (e.completed_at IS NOT NULL OR e.created_at > now() - interval '10 minutes')
        """;

    /// <summary>The job's inputs for the writer; 404 for another org's job, 409 JOB_NOT_FINISHED unless it completed.</summary>
    public static async Task<EnrichmentSource> SourceAsync(NpgsqlDataSource db, string orgId, string jobId, CancellationToken ct)
    {
        string status;
        JsonElement config;
        string? workflowName, templateName;
        await using (var cmd = db.CreateCommand("""
            SELECT j.status, j.config, w.name,
                   (SELECT t.name FROM templates t WHERE (t.org_id IS NULL OR t.org_id = j.org_id) AND t.id IN (
                      SELECT n->'params'->>'template_id' FROM jsonb_array_elements(coalesce(j.config->'graph'->'nodes', '[]')) n
                      WHERE n->>'type' = 'Edit.Timeline') ORDER BY t.id LIMIT 1)
            FROM jobs j LEFT JOIN workflows w ON w.id = j.workflow_id
            WHERE j.id = $1 AND j.org_id = $2
            """))
        {
            cmd.Parameters.Add(new() { Value = jobId });
            cmd.Parameters.Add(new() { Value = orgId });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct)) throw new NotFoundException("job", jobId);
            status = reader.GetString(0);
            config = JsonDocument.Parse(reader.GetString(1)).RootElement.Clone();
            workflowName = reader.IsDBNull(2) ? null : reader.GetString(2);
            templateName = reader.IsDBNull(3) ? null : reader.GetString(3);
        }
        if (status != "completed")
            throw new ConflictException("JOB_NOT_FINISHED", $"Only a completed job's video can be enriched; this job is {status}.");

        JsonElement? script = null, subtitles = null;
        await using (var cmd = db.CreateCommand("""
            SELECT node_type, output FROM node_runs
            WHERE job_id = $1 AND status = 'succeeded' AND item_index >= 0 AND output IS NOT NULL
              AND node_type IN ('Script.Generate', 'Script.Transform', 'Subtitle.Auto')
            ORDER BY node_type = 'Script.Transform', completed_at NULLS FIRST, node_id, item_index
            """))
        {
            cmd.Parameters.Add(new() { Value = jobId });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            // The last script wins: a transform's (the script the video speaks) over the one it transformed.
            while (await reader.ReadAsync(ct))
            {
                var output = JsonDocument.Parse(reader.GetString(1)).RootElement.Clone();
                if (reader.GetString(0) == "Subtitle.Auto") subtitles ??= output;
                else script = output;
            }
        }
        return From(jobId, config, script, subtitles, workflowName, templateName);
    }

    /// <summary>The writer's input from the stored JSON (read leniently: a field left out is simply not there).</summary>
    public static EnrichmentSource From(string jobId, JsonElement config, JsonElement? script, JsonElement? subtitles, string? workflowName, string? templateName)
    {
        static string? Text(JsonElement? element, string name) =>
            element is { ValueKind: JsonValueKind.Object } e && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
                && v.GetString() is { Length: > 0 } s ? s.Trim() : null;
        static IEnumerable<JsonElement> Array(JsonElement? element, string name) =>
            element is { ValueKind: JsonValueKind.Object } e && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array ? v.EnumerateArray() : [];

        var narration = Array(script, "scenes").Select(s => Text(s, "narration")).OfType<string>().ToList();
        var tags = Array(script, "hashtags").Where(t => t.ValueKind == JsonValueKind.String).Select(t => t.GetString()!).ToList();
        var cues = Array(subtitles, "cues").Select(c => string.Join(" ", Array(c, "lines").Where(l => l.ValueKind == JsonValueKind.String)
            .Select(l => l.GetString()!.Trim()))).Where(c => c.Length > 0).ToList();

        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        if (config.ValueKind == JsonValueKind.Object && config.TryGetProperty("variables", out var vars) && vars.ValueKind == JsonValueKind.Object)
            foreach (var v in vars.EnumerateObject())
                if (v.Value.ValueKind is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False
                    && (v.Value.ValueKind == JsonValueKind.String ? v.Value.GetString()! : v.Value.GetRawText()) is { Length: > 0 and <= 500 } value)
                    variables[v.Name] = value;
        // The topic: a "topic" variable, else the first Script.Generate's prompt.
        var topic = variables.GetValueOrDefault("topic");
        if (topic is null && config.ValueKind == JsonValueKind.Object && config.TryGetProperty("graph", out var graph)
            && graph.ValueKind == JsonValueKind.Object && graph.TryGetProperty("nodes", out var nodes) && nodes.ValueKind == JsonValueKind.Array)
            topic = nodes.EnumerateArray().Where(n => Text(n, "type") == "Script.Generate")
                .Select(n => n.TryGetProperty("params", out var p) ? Text(p, "prompt") : null).FirstOrDefault(p => p is not null);

        return new EnrichmentSource(jobId, Text(script, "title"), Text(script, "hook"), narration, tags,
            cues.Count > 0 ? string.Join(" ", cues) : null, templateName, workflowName, topic, variables, Text(script, "lang"), Text(script, "genre"));
    }

    /// <summary>
    /// Takes one of the org's enrichments for this month, or throws <see cref="QuotaExceededException"/> (recording nothing).
    /// Counted under a transaction-scoped advisory lock on the org, so concurrent requests are counted one after another.
    /// </summary>
    public static async Task<EnrichmentReservation> ReserveAsync(NpgsqlDataSource db, string orgId, string? userId, string jobId, DateTimeOffset now,
        CancellationToken ct)
    {
        var (start, end) = Metering.PeriodOf(now);
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var lockOrg = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended('enrichments:' || $1, 0))", conn, tx))
        {
            lockOrg.Parameters.Add(new() { Value = orgId });
            await lockOrg.ExecuteNonQueryAsync(ct);
        }
        Plan plan;
        long counted;
        await using (var count = new NpgsqlCommand($"SELECT o.plan, (SELECT count(*) FROM {CountedSql}) FROM orgs o WHERE o.id = $1", conn, tx))
        {
            count.Parameters.Add(new() { Value = orgId });
            count.Parameters.Add(new() { Value = start, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            count.Parameters.Add(new() { Value = end, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            await using var reader = await count.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct)) throw new NotFoundException("org", orgId);
            plan = Plan.For(reader.IsDBNull(0) ? null : reader.GetString(0));
            counted = reader.GetInt64(1);
        }
        if (plan.Enrichments is { } limit && counted >= limit)
            throw new QuotaExceededException(new QuotaLine(UsageResources.Enrichments, limit, counted), end);
        string id;
        int seq;
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO enrichments (id, org_id, user_id, job_id, created_at) VALUES (fenta_id('enr'), $1, $2, $3, $4) RETURNING id, seq
            """, conn, tx))
        {
            insert.Parameters.Add(new() { Value = orgId });
            insert.Parameters.Add(new() { Value = (object?)userId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            insert.Parameters.Add(new() { Value = jobId });
            insert.Parameters.Add(new() { Value = now, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            await using var reader = await insert.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            (id, seq) = (reader.GetString(0), reader.GetInt32(1));
        }
        await tx.CommitAsync(ct);
        return new EnrichmentReservation(id, seq, plan, end);
    }

    /// <summary>Gives a reservation back (the writer failed): nothing counts.</summary>
    public static async Task ReleaseAsync(NpgsqlDataSource db, EnrichmentReservation reservation, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("DELETE FROM enrichments WHERE id = $1 AND completed_at IS NULL");
        cmd.Parameters.Add(new() { Value = reservation.Id });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Completes the reservation with what was written and, when an LLM wrote it, records its tokens as the org's usage:
    /// <c>llm_tokens</c> of the job under node <c>enrichment</c>, item = the enrichment's number (each enrichment its own
    /// record), priced at the org's plan. The job's own cost columns stay what producing the video cost.
    /// </summary>
    public static async Task CompleteAsync(NpgsqlDataSource db, EnrichmentReservation reservation, string jobId, MetadataDraft draft,
        IReadOnlyList<PlatformMetadata> items, DateTimeOffset now, CancellationToken ct)
    {
        await using var batch = db.CreateBatch();
        var complete = new NpgsqlBatchCommand("UPDATE enrichments SET model = $2, items = $3, completed_at = $4 WHERE id = $1");
        complete.Parameters.Add(new() { Value = reservation.Id });
        complete.Parameters.Add(new() { Value = draft.Model });
        complete.Parameters.Add(new() { Value = JsonSerializer.Serialize(items, FentaJson.Options), NpgsqlDbType = NpgsqlDbType.Jsonb });
        complete.Parameters.Add(new() { Value = now, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        batch.BatchCommands.Add(complete);
        if (draft.PromptTokens + draft.OutputTokens > 0)
        {
            var usage = new NpgsqlBatchCommand("""
                INSERT INTO usage_records (id, org_id, user_id, job_id, node_id, item_index, resource_type, llm_tokens_prompt, llm_tokens_output,
                                           llm_model, cost_usd, created_at)
                SELECT fenta_id('usage'), e.org_id, e.user_id, $2, 'enrichment', e.seq, 'llm_tokens', $3, $4, $5, $6, $7 FROM enrichments e WHERE e.id = $1
                ON CONFLICT (job_id, node_id, item_index, resource_type) WHERE job_id IS NOT NULL DO NOTHING
                """);
            usage.Parameters.Add(new() { Value = reservation.Id });
            usage.Parameters.Add(new() { Value = jobId });
            usage.Parameters.Add(new() { Value = draft.PromptTokens });
            usage.Parameters.Add(new() { Value = draft.OutputTokens });
            usage.Parameters.Add(new() { Value = draft.Model });
            usage.Parameters.Add(new() { Value = reservation.Plan.Prices.Of(draft.PromptTokens + draft.OutputTokens, 0, 0) });
            usage.Parameters.Add(new() { Value = now, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            batch.BatchCommands.Add(usage);
        }
        await batch.ExecuteNonQueryAsync(ct);
    }
}
