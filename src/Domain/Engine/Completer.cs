using System.Text.Json;
using FentaWeb.Domain.Common;
using Npgsql;
using NpgsqlTypes;

namespace FentaWeb.Domain.Engine;

/// <summary>
/// Applies a batch of task completions in one transaction: fence on the lease, record node results, fan in
/// finished items, count down successors and enqueue the ready ones, finish or fail the job. Batching is what
/// lets one commit carry many completions (group commit) when activities are short.
/// </summary>
public static class Completer
{
    public static async Task ApplyAsync(NpgsqlDataSource db, string owner, IReadOnlyList<Completion> completions,
        Func<string, CancellationToken, Task<JobPlan>> planOf, CancellationToken ct)
    {
        var ordered = completions
            .OrderBy(c => c.Task.JobId, StringComparer.Ordinal).ThenBy(c => c.Task.NodeId, StringComparer.Ordinal).ThenBy(c => c.Task.ItemIndex)
            .ToList();
        var plans = new Dictionary<string, JobPlan>(StringComparer.Ordinal);
        foreach (var jobId in ordered.Select(c => c.Task.JobId).Distinct()) plans[jobId] = await planOf(jobId, ct);

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var conn = await db.OpenConnectionAsync(ct);
                await using var tx = await conn.BeginTransactionAsync(ct);
                await new Batch(conn, tx, owner, plans).ApplyAsync(ordered, ct);
                await tx.CommitAsync(ct);
                return;
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure && attempt < 5)
            {
                await Task.Delay(Random.Shared.Next(5, 50) * attempt, ct);
            }
        }
    }

    private sealed class Batch(NpgsqlConnection conn, NpgsqlTransaction tx, string owner, Dictionary<string, JobPlan> plans)
    {
        private readonly List<(string JobId, string NodeId)> _nodesDone = [];
        private readonly List<(string JobId, string NodeId, int Item, string Queue)> _enqueue = [];
        private readonly Dictionary<string, decimal> _cost = new(StringComparer.Ordinal);

        public async Task ApplyAsync(List<Completion> completions, CancellationToken ct)
        {
            var held = await FenceAsync(completions, ct);
            var valid = completions.Where(c => held.Contains(c.Task.TaskId)).ToList();

            await SucceedAsync(valid.OfType<Completion.Success>().ToList(), ct);
            await RescheduleAsync(valid.OfType<Completion.Reschedule>().ToList(), ct);
            foreach (var cancelled in valid.OfType<Completion.Cancelled>())
                await SetStatusAsync(cancelled.Task.JobId, cancelled.Task.NodeId, cancelled.Task.ItemIndex, "cancelled", null, ct);
            foreach (var expanded in valid.OfType<Completion.Expanded>()) await ExpandAsync(expanded, ct);
            foreach (var failure in valid.OfType<Completion.Failure>()) await FailAsync(failure, ct);

            await FinishNodesAsync(ct);
            await TaskStore.EnqueueManyAsync(conn, tx, _enqueue, ct);
        }

        /// <summary>Only completions whose task this worker still holds, at the same attempt, count.</summary>
        private async Task<HashSet<long>> FenceAsync(List<Completion> completions, CancellationToken ct)
        {
            var finishing = completions.Where(c => c is not Completion.Reschedule).ToList();
            var rescheduling = completions.OfType<Completion.Reschedule>().ToList();
            await using var batch = new NpgsqlBatch(conn, tx)
            {
                BatchCommands =
                {
                    new NpgsqlBatchCommand("""
                        DELETE FROM durable_tasks t USING unnest($1::bigint[], $2::int[]) u(id, attempts)
                        WHERE t.id = u.id AND t.attempts = u.attempts AND t.lease_owner = $3
                        RETURNING t.id
                        """)
                    {
                        Parameters =
                        {
                            new() { Value = finishing.Select(c => c.Task.TaskId).ToArray() },
                            new() { Value = finishing.Select(c => c.Task.TaskAttempts).ToArray() },
                            new() { Value = owner },
                        },
                    },
                    new NpgsqlBatchCommand("""
                        UPDATE durable_tasks t SET lease_owner = NULL, lease_expires_at = NULL, run_at = now() + u.delay
                        FROM unnest($1::bigint[], $2::int[], $3::interval[]) u(id, attempts, delay)
                        WHERE t.id = u.id AND t.attempts = u.attempts AND t.lease_owner = $4
                        RETURNING t.id
                        """)
                    {
                        Parameters =
                        {
                            new() { Value = rescheduling.Select(c => c.Task.TaskId).ToArray() },
                            new() { Value = rescheduling.Select(c => c.Task.TaskAttempts).ToArray() },
                            new() { Value = rescheduling.Select(c => c.Delay).ToArray() },
                            new() { Value = owner },
                        },
                    },
                },
            };
            var held = new HashSet<long>();
            await using var reader = await batch.ExecuteReaderAsync(ct);
            do
            {
                while (await reader.ReadAsync(ct)) held.Add(reader.GetInt64(0));
            } while (await reader.NextResultAsync(ct));
            return held;
        }

        private async Task SucceedAsync(List<Completion.Success> successes, CancellationToken ct)
        {
            if (successes.Count == 0) return;
            await using (var cmd = new NpgsqlCommand("""
                UPDATE node_runs n SET status = 'succeeded', output = u.output::jsonb, cost_usd = u.cost, error = NULL,
                                       completed_at = now(), updated_at = now()
                FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::numeric[]) u(job_id, node_id, item_index, output, cost)
                WHERE n.job_id = u.job_id AND n.node_id = u.node_id AND n.item_index = u.item_index
                  AND n.status IN ('pending', 'running', 'waiting')
                """, conn, tx))
            {
                cmd.Parameters.Add(new() { Value = successes.Select(s => s.Task.JobId).ToArray() });
                cmd.Parameters.Add(new() { Value = successes.Select(s => s.Task.NodeId).ToArray() });
                cmd.Parameters.Add(new() { Value = successes.Select(s => s.Task.ItemIndex).ToArray() });
                cmd.Parameters.Add(new() { Value = successes.Select(s => s.Output.GetRawText()).ToArray() });
                cmd.Parameters.Add(new() { Value = successes.Select(s => s.CostUsd).ToArray() });
                await cmd.ExecuteNonQueryAsync(ct);
            }
            foreach (var s in successes)
                if (s.CostUsd != 0) _cost[s.Task.JobId] = _cost.GetValueOrDefault(s.Task.JobId) + s.CostUsd;

            _nodesDone.AddRange(successes.Where(s => !IsItem(s.Task)).Select(s => (s.Task.JobId, s.Task.NodeId)));

            // Items fan in: count down their node; the node is done when its last item is.
            var items = successes.Where(s => IsItem(s.Task)).GroupBy(s => (s.Task.JobId, s.Task.NodeId)).ToList();
            if (items.Count == 0) return;
            var finished = new List<(string JobId, string NodeId)>();
            await using (var cmd = new NpgsqlCommand("""
                UPDATE node_runs n SET remaining_deps = n.remaining_deps - u.done, updated_at = now()
                FROM unnest($1::text[], $2::text[], $3::int[]) u(job_id, node_id, done)
                WHERE n.job_id = u.job_id AND n.node_id = u.node_id AND n.item_index = -1 AND n.status = 'running'
                RETURNING n.job_id, n.node_id, n.remaining_deps
                """, conn, tx))
            {
                cmd.Parameters.Add(new() { Value = items.Select(g => g.Key.JobId).ToArray() });
                cmd.Parameters.Add(new() { Value = items.Select(g => g.Key.NodeId).ToArray() });
                cmd.Parameters.Add(new() { Value = items.Select(g => g.Count()).ToArray() });
                await using var reader = await cmd.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                    if (reader.GetInt32(2) == 0) finished.Add((reader.GetString(0), reader.GetString(1)));
            }
            foreach (var (jobId, nodeId) in finished)
            {
                await using var cmd = new NpgsqlCommand("""
                    SELECT output FROM node_runs WHERE job_id = $1 AND node_id = $2 AND item_index >= 0 ORDER BY item_index
                    """, conn, tx);
                cmd.Parameters.Add(new() { Value = jobId });
                cmd.Parameters.Add(new() { Value = nodeId });
                var outputs = new List<JsonElement>();
                await using (var reader = await cmd.ExecuteReaderAsync(ct))
                    while (await reader.ReadAsync(ct)) outputs.Add(TaskStore.Json(reader.GetString(0)));
                await SetStatusAsync(jobId, nodeId, -1, "succeeded", null, ct, JobPlan.Aggregate(outputs));
                _nodesDone.Add((jobId, nodeId));
            }
        }

        private async Task RescheduleAsync(List<Completion.Reschedule> reschedules, CancellationToken ct)
        {
            if (reschedules.Count == 0) return;
            await using (var cmd = new NpgsqlCommand("""
                UPDATE node_runs n
                SET status = CASE WHEN u.uses_attempt THEN 'pending' ELSE 'waiting' END,
                    attempt = CASE WHEN u.uses_attempt THEN n.attempt ELSE n.attempt - 1 END,
                    error = COALESCE(u.error::jsonb, n.error), updated_at = now()
                FROM unnest($1::text[], $2::text[], $3::int[], $4::bool[], $5::text[]) u(job_id, node_id, item_index, uses_attempt, error)
                WHERE n.job_id = u.job_id AND n.node_id = u.node_id AND n.item_index = u.item_index
                """, conn, tx))
            {
                cmd.Parameters.Add(new() { Value = reschedules.Select(r => r.Task.JobId).ToArray() });
                cmd.Parameters.Add(new() { Value = reschedules.Select(r => r.Task.NodeId).ToArray() });
                cmd.Parameters.Add(new() { Value = reschedules.Select(r => r.Task.ItemIndex).ToArray() });
                cmd.Parameters.Add(new() { Value = reschedules.Select(r => r.UsesAttempt).ToArray() });
                cmd.Parameters.Add(new() { Value = reschedules.Select(r => r.UsesAttempt ? ErrorJson(r.Code!, r.Message, r.Task.NodeAttempt) : null).ToArray() });
                await cmd.ExecuteNonQueryAsync(ct);
            }
            foreach (var retry in reschedules.Where(r => r.UsesAttempt))
                await TaskStore.LogAsync(conn, tx, retry.Task.JobId, "warn", retry.Task.NodeId,
                    $"{retry.Task.NodeId} attempt {retry.Task.NodeAttempt} failed ({retry.Code}: {retry.Message}); retrying in {retry.Delay.TotalSeconds:0.#} s",
                    new { retry.Task.ItemIndex, retry.Code }, ct);
        }

        private async Task ExpandAsync(Completion.Expanded expanded, CancellationToken ct)
        {
            var task = expanded.Task;
            var node = plans[task.JobId].Nodes[task.NodeId];
            if (expanded.Items.Count == 0)
            {
                await SetStatusAsync(task.JobId, task.NodeId, -1, "succeeded", null, ct, JobPlan.Aggregate([]));
                _nodesDone.Add((task.JobId, task.NodeId));
                return;
            }
            var indexes = Enumerable.Range(0, expanded.Items.Count).ToArray();
            await using (var cmd = new NpgsqlCommand("""
                INSERT INTO node_runs (job_id, node_id, item_index, node_type, status, remaining_deps, input)
                SELECT $1, $2, u.item_index, $3, 'pending', 0, u.input::jsonb FROM unnest($4::int[], $5::text[]) u(item_index, input);
                """, conn, tx))
            {
                cmd.Parameters.Add(new() { Value = task.JobId });
                cmd.Parameters.Add(new() { Value = task.NodeId });
                cmd.Parameters.Add(new() { Value = task.NodeType });
                cmd.Parameters.Add(new() { Value = indexes });
                cmd.Parameters.Add(new() { Value = expanded.Items.Select(i => i.GetRawText()).ToArray() });
                await cmd.ExecuteNonQueryAsync(ct);
            }
            await using (var parent = new NpgsqlCommand("""
                UPDATE node_runs SET status = 'running', item_count = $3, remaining_deps = $3, updated_at = now()
                WHERE job_id = $1 AND node_id = $2 AND item_index = -1
                """, conn, tx))
            {
                parent.Parameters.Add(new() { Value = task.JobId });
                parent.Parameters.Add(new() { Value = task.NodeId });
                parent.Parameters.Add(new() { Value = expanded.Items.Count });
                await parent.ExecuteNonQueryAsync(ct);
            }
            _enqueue.AddRange(indexes.Select(i => (task.JobId, task.NodeId, i, node.Definition.Queue)));
        }

        /// <summary>A permanent failure (or exhausted retries) fails the node, then the job; the job's other work stops.</summary>
        private async Task FailAsync(Completion.Failure failure, CancellationToken ct)
        {
            var task = failure.Task;
            var error = ErrorJson(failure.Code, failure.Message, task.NodeAttempt);
            await SetStatusAsync(task.JobId, task.NodeId, task.ItemIndex, "failed", error, ct);
            if (IsItem(task)) await SetStatusAsync(task.JobId, task.NodeId, -1, "failed", error, ct);

            await using var cmd = new NpgsqlCommand("""
                UPDATE jobs SET status = 'failed', completed_at = now(), updated_at = now(),
                       error = jsonb_build_object('code', $2::text, 'message', $3::text, 'node_id', $4::text, 'item_index', $5::int)
                WHERE id = $1 AND status IN ('queued', 'processing')
                RETURNING id
                """, conn, tx);
            cmd.Parameters.Add(new() { Value = task.JobId });
            cmd.Parameters.Add(new() { Value = failure.Code });
            cmd.Parameters.Add(new() { Value = failure.Message });
            cmd.Parameters.Add(new() { Value = task.NodeId });
            cmd.Parameters.Add(new() { Value = task.ItemIndex });
            if (await cmd.ExecuteScalarAsync(ct) is null) return;
            await TaskStore.StopJobWorkAsync(conn, tx, task.JobId, ct);
            await TaskStore.LogAsync(conn, tx, task.JobId, "error", task.NodeId,
                $"Job failed: {task.NodeId} ({task.NodeType}) {failure.Code}: {failure.Message}", new { task.ItemIndex, attempt = task.NodeAttempt }, ct);
        }

        /// <summary>Whole nodes that finished: advance their jobs, count down successors, enqueue the ready ones.</summary>
        private async Task FinishNodesAsync(CancellationToken ct)
        {
            foreach (var (jobId, cost) in _cost.Where(c => !_nodesDone.Any(n => n.JobId == c.Key)))
                await AdvanceJobAsync(jobId, 0, cost, ct);

            var countdown = new Dictionary<(string JobId, string NodeId), int>();
            foreach (var job in _nodesDone.GroupBy(n => n.JobId))
            {
                var plan = plans[job.Key];
                var progress = await AdvanceJobAsync(job.Key, job.Count(), _cost.GetValueOrDefault(job.Key), ct);
                if (progress is not var (done, total)) continue; // the job already ended
                if (done >= total)
                {
                    await TaskStore.CompleteJobAsync(conn, tx, job.Key, plan, ct);
                    continue;
                }
                foreach (var successor in job.SelectMany(n => plan.Nodes[n.NodeId].Successors))
                    countdown[(job.Key, successor)] = countdown.GetValueOrDefault((job.Key, successor)) + 1;
            }
            if (countdown.Count == 0) return;

            var ordered = countdown.OrderBy(c => c.Key.JobId, StringComparer.Ordinal).ThenBy(c => c.Key.NodeId, StringComparer.Ordinal).ToList();
            await using var cmd = new NpgsqlCommand("""
                UPDATE node_runs n SET remaining_deps = n.remaining_deps - u.done, updated_at = now()
                FROM unnest($1::text[], $2::text[], $3::int[]) u(job_id, node_id, done)
                WHERE n.job_id = u.job_id AND n.node_id = u.node_id AND n.item_index IN (-1, 0) AND n.status = 'pending'
                RETURNING n.job_id, n.node_id, n.item_index, n.remaining_deps
                """, conn, tx);
            cmd.Parameters.Add(new() { Value = ordered.Select(c => c.Key.JobId).ToArray() });
            cmd.Parameters.Add(new() { Value = ordered.Select(c => c.Key.NodeId).ToArray() });
            cmd.Parameters.Add(new() { Value = ordered.Select(c => c.Value).ToArray() });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                if (reader.GetInt32(3) != 0) continue;
                var (jobId, nodeId) = (reader.GetString(0), reader.GetString(1));
                _enqueue.Add((jobId, nodeId, reader.GetInt32(2), plans[jobId].Nodes[nodeId].Definition.Queue));
            }
        }

        private async Task<(int Done, int Total)?> AdvanceJobAsync(string jobId, int nodesDone, decimal cost, CancellationToken ct)
        {
            await using var cmd = new NpgsqlCommand("""
                UPDATE jobs SET nodes_done = nodes_done + $2, progress = LEAST(99, (nodes_done + $2) * 100 / node_count),
                                cost_total_usd = cost_total_usd + $3, updated_at = now()
                WHERE id = $1 AND status IN ('queued', 'processing')
                RETURNING nodes_done, node_count
                """, conn, tx);
            cmd.Parameters.Add(new() { Value = jobId });
            cmd.Parameters.Add(new() { Value = nodesDone });
            cmd.Parameters.Add(new() { Value = cost });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            return await reader.ReadAsync(ct) ? (reader.GetInt32(0), reader.GetInt32(1)) : null;
        }

        private async Task SetStatusAsync(string jobId, string nodeId, int item, string status, string? error, CancellationToken ct, JsonElement? output = null)
        {
            await using var cmd = new NpgsqlCommand("""
                UPDATE node_runs SET status = $4, error = COALESCE($5::jsonb, error), output = COALESCE($6::jsonb, output),
                                     completed_at = now(), updated_at = now()
                WHERE job_id = $1 AND node_id = $2 AND item_index = $3
                """, conn, tx);
            cmd.Parameters.Add(new() { Value = jobId });
            cmd.Parameters.Add(new() { Value = nodeId });
            cmd.Parameters.Add(new() { Value = item });
            cmd.Parameters.Add(new() { Value = status });
            cmd.Parameters.Add(new() { Value = (object?)error ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            cmd.Parameters.Add(new() { Value = output?.GetRawText() ?? (object)DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            await cmd.ExecuteNonQueryAsync(ct);
        }

        private bool IsItem(ClaimedTask task) => task.ItemIndex >= 0 && plans[task.JobId].Nodes[task.NodeId].FansOut;

        private static string ErrorJson(string code, string message, int attempt) =>
            JsonSerializer.Serialize(new { code, message, attempt }, FentaJson.Options);
    }
}
