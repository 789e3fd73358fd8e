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
    /// <param name="reserve">
    /// Asks the worker for free slots on a queue (returns how many it grants). Successors that become ready are
    /// leased straight to this worker up to that many and returned, so it runs them without a claim round trip.
    /// </param>
    /// <returns>The successor tasks leased to this worker (continuations), to run now.</returns>
    public static async Task<IReadOnlyList<ClaimedTask>> ApplyAsync(NpgsqlDataSource db, string owner, TimeSpan lease,
        IReadOnlyList<Completion> completions, Func<string, CancellationToken, Task<JobPlan>> planOf, Func<string, int, int> reserve,
        CancellationToken ct)
    {
        var ordered = completions
            .OrderBy(c => c.Task.JobId, StringComparer.Ordinal).ThenBy(c => c.Task.NodeId, StringComparer.Ordinal).ThenBy(c => c.Task.ItemIndex)
            .ToList();
        var plans = new Dictionary<string, JobPlan>(StringComparer.Ordinal);
        foreach (var jobId in ordered.Select(c => c.Task.JobId).Distinct()) plans[jobId] = await planOf(jobId, ct);

        for (var attempt = 1; ; attempt++)
        {
            var batch = new Batch(owner, lease, plans, reserve);
            try
            {
                await using var conn = await db.OpenConnectionAsync(ct);
                // The common case — whole nodes succeeded — needs one round trip; anything else takes the general path.
                if (ordered.All(c => c is Completion.Success s && !plans[s.Task.JobId].Nodes[s.Task.NodeId].FansOut))
                    return await batch.ApplySuccessesAsync(conn, ordered.Cast<Completion.Success>().ToList(), ct);
                await using var tx = await conn.BeginTransactionAsync(ct);
                var continuations = await batch.ApplyAsync(conn, tx, ordered, ct);
                await tx.CommitAsync(ct);
                return continuations;
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure && attempt < 5)
            {
                batch.ReturnReservations();
                await Task.Delay(Random.Shared.Next(5, 50) * attempt, ct);
            }
            catch
            {
                batch.ReturnReservations();
                throw;
            }
        }
    }

    /// <summary>Fence (delete or re-time the tasks still leased to this worker) and record the successes that passed.</summary>
    private const string FenceAndSucceedSql = """
                WITH fenced AS (
                  DELETE FROM durable_tasks t USING unnest($1::bigint[], $2::int[]) u(id, attempts)
                  WHERE t.id = u.id AND t.attempts = u.attempts AND t.lease_owner = $3
                  RETURNING t.id),
                moved AS (
                  -- An event that arrived while the activity ran (after it looked) wakes the task at once.
                  UPDATE durable_tasks t SET lease_owner = NULL, lease_expires_at = NULL,
                         run_at = CASE WHEN EXISTS (SELECT 1 FROM node_runs n WHERE n.job_id = t.job_id AND n.node_id = t.node_id
                                                    AND n.item_index = t.item_index AND n.event_at > u.claimed_at)
                                       THEN now() ELSE now() + u.delay END
                  FROM unnest($4::bigint[], $5::int[], $6::interval[], $13::timestamptz[]) u(id, attempts, delay, claimed_at)
                  WHERE t.id = u.id AND t.attempts = u.attempts AND t.lease_owner = $3
                  RETURNING t.id),
                succeeded AS (
                  UPDATE node_runs n SET status = 'succeeded', output = u.output::jsonb, cost_usd = u.cost, error = NULL,
                                         completed_at = now(), updated_at = now()
                  FROM unnest($7::bigint[], $8::text[], $9::text[], $10::int[], $11::text[], $12::numeric[])
                       u(task_id, job_id, node_id, item_index, output, cost)
                  WHERE u.task_id IN (SELECT id FROM fenced)
                    AND n.job_id = u.job_id AND n.node_id = u.node_id AND n.item_index = u.item_index
                    AND n.status IN ('pending', 'running', 'waiting')
                  RETURNING 1)
                SELECT id FROM fenced UNION ALL SELECT id FROM moved
                """;

    /// <summary>
    /// The tail shared by both paths: count down candidate successors (of jobs in <c>advanced</c>), enqueue those at
    /// zero — leasing the ones marked <c>mine</c> to this worker — and report jobs, leased tasks and notifications.
    /// </summary>
    private static string FinishSql(string advancedAndCandidates) => "WITH " + advancedAndCandidates + """
                counted AS (
                  UPDATE node_runs n
                  SET remaining_deps = n.remaining_deps - u.done,
                      status = CASE WHEN n.remaining_deps = u.done AND u.mine AND n.item_index = 0 THEN 'running' ELSE n.status END,
                      attempt = CASE WHEN n.remaining_deps = u.done AND u.mine AND n.item_index = 0 THEN n.attempt + 1 ELSE n.attempt END,
                      started_at = CASE WHEN n.remaining_deps = u.done AND u.mine AND n.item_index = 0 THEN now() ELSE n.started_at END,
                      updated_at = now()
                  FROM candidates u
                  WHERE n.job_id = u.job_id AND n.node_id = u.node_id AND n.item_index IN (-1, 0) AND n.status = 'pending'
                    AND n.job_id IN (SELECT id FROM advanced)
                  RETURNING n.job_id, n.node_id, n.item_index, n.remaining_deps, n.attempt, n.node_type, u.queue,
                            u.mine AND n.item_index = 0 AS mine),
                added AS (
                  INSERT INTO durable_tasks (queue, job_id, node_id, item_index, lease_owner, lease_expires_at, attempts)
                  SELECT queue, job_id, node_id, item_index, CASE WHEN mine THEN $9 END, CASE WHEN mine THEN now() + $10 END,
                         CASE WHEN mine THEN 1 ELSE 0 END
                  FROM counted WHERE remaining_deps = 0
                  RETURNING id, job_id, node_id, queue, lease_owner IS NOT NULL AS mine),
                notified AS (
                  SELECT pg_notify($11, queue) FROM (SELECT DISTINCT queue FROM added WHERE NOT mine) d)
                SELECT 'job', a.id, NULL, a.nodes_done, a.node_count, NULL::bigint, NULL, now() FROM advanced a
                UNION ALL
                SELECT 'task', t.job_id, t.node_id, c.item_index, c.attempt, t.id, c.node_type, now()
                FROM added t JOIN counted c ON c.job_id = t.job_id AND c.node_id = t.node_id WHERE t.mine
                UNION ALL
                SELECT 'notify', NULL, NULL, count(*)::int, 0, NULL, NULL, now() FROM notified
                """;

    private sealed class Batch(string owner, TimeSpan lease, Dictionary<string, JobPlan> plans, Func<string, int, int> reserve)
    {
        private NpgsqlConnection conn = null!;
        private NpgsqlTransaction tx = null!;
        private readonly List<(string JobId, string NodeId, string OrgId)> _nodesDone = [];
        private readonly List<(string JobId, string NodeId, int Item, string Queue)> _enqueue = [];
        private readonly Dictionary<string, decimal> _cost = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> _reserved = new(StringComparer.Ordinal);

        public async Task<IReadOnlyList<ClaimedTask>> ApplyAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
            List<Completion> completions, CancellationToken ct)
        {
            (conn, tx) = (connection, transaction);
            var held = await FenceAndSucceedAsync(completions, ct);
            var valid = completions.Where(c => held.Contains(c.Task.TaskId)).ToList();

            await FanInAsync(valid.OfType<Completion.Success>().ToList(), ct);
            await RescheduleAsync(valid.OfType<Completion.Reschedule>().ToList(), ct);
            foreach (var cancelled in valid.OfType<Completion.Cancelled>())
                await SetStatusAsync(cancelled.Task.JobId, cancelled.Task.NodeId, cancelled.Task.ItemIndex, "cancelled", null, ct);
            foreach (var expanded in valid.OfType<Completion.Expanded>()) await ExpandAsync(expanded, ct);
            foreach (var failure in valid.OfType<Completion.Failure>()) await FailAsync(failure, ct);

            var continuations = await FinishNodesAsync(ct);
            await TaskStore.EnqueueManyAsync(conn, tx, _enqueue, ct);
            GiveBackUnused(continuations);
            return continuations;
        }

        /// <summary>
        /// The fast path for a batch of whole nodes that succeeded (a chain's every step): fence and record, advance
        /// jobs and count down successors, finish completed jobs — three statements in one round trip, one implicit
        /// transaction. A completion whose task is still in the queue after the fence (another worker holds it now) is
        /// left out of the counting, as the general path would.
        /// </summary>
        public async Task<IReadOnlyList<ClaimedTask>> ApplySuccessesAsync(NpgsqlConnection connection, List<Completion.Success> successes, CancellationToken ct)
        {
            var edges = successes.SelectMany(s => plans[s.Task.JobId].Nodes[s.Task.NodeId].Successors.Select(next =>
                (s.Task.TaskId, s.Task.JobId, NodeId: next, Queue: plans[s.Task.JobId].Nodes[next].Definition.Queue))).ToList();
            var leased = ReserveFor(edges.Select(e => (e.JobId, e.NodeId, e.Queue)).Distinct().ToList());
            var jobs = successes.Select(x => x.Task.JobId).Distinct().Order(StringComparer.Ordinal).ToArray();

            await using var batch = new NpgsqlBatch(connection)
            {
                BatchCommands =
                {
                    new NpgsqlBatchCommand(FenceAndSucceedSql)
                    {
                        Parameters =
                        {
                            new() { Value = successes.Select(c => c.Task.TaskId).ToArray() },
                            new() { Value = successes.Select(c => c.Task.TaskAttempts).ToArray() },
                            new() { Value = owner },
                            new() { Value = Array.Empty<long>() },
                            new() { Value = Array.Empty<int>() },
                            new() { Value = Array.Empty<TimeSpan>() },
                            new() { Value = successes.Select(c => c.Task.TaskId).ToArray() },
                            new() { Value = successes.Select(c => c.Task.JobId).ToArray() },
                            new() { Value = successes.Select(c => c.Task.NodeId).ToArray() },
                            new() { Value = successes.Select(c => c.Task.ItemIndex).ToArray() },
                            new() { Value = successes.Select(c => c.Output.GetRawText()).ToArray() },
                            new() { Value = successes.Select(c => c.CostUsd).ToArray() },
                            new() { Value = Array.Empty<DateTimeOffset>() },
                        },
                    },
                    new NpgsqlBatchCommand(FinishSql("""
                        done AS (
                          SELECT u.job_id, count(*)::int AS n, sum(u.cost) AS cost
                          FROM unnest($1::bigint[], $2::text[], $3::numeric[]) u(task_id, job_id, cost)
                          WHERE NOT EXISTS (SELECT 1 FROM durable_tasks t WHERE t.id = u.task_id)
                          GROUP BY u.job_id),
                        advanced AS (
                          UPDATE jobs j SET nodes_done = j.nodes_done + d.n, progress = LEAST(99, (j.nodes_done + d.n) * 100 / j.node_count),
                                            cost_total_usd = j.cost_total_usd + d.cost, updated_at = now()
                          FROM done d WHERE j.id = d.job_id AND j.status IN ('queued', 'processing')
                          RETURNING j.id, j.nodes_done, j.node_count),
                        candidates AS (
                          SELECT c.job_id, c.node_id, count(*)::int AS done, min(c.queue) AS queue, bool_or(c.mine) AS mine
                          FROM unnest($4::bigint[], $5::text[], $6::text[], $7::text[], $8::bool[]) c(task_id, job_id, node_id, queue, mine)
                          WHERE NOT EXISTS (SELECT 1 FROM durable_tasks t WHERE t.id = c.task_id)
                          GROUP BY c.job_id, c.node_id),
                        """))
                    {
                        Parameters =
                        {
                            new() { Value = successes.Select(c => c.Task.TaskId).ToArray() },
                            new() { Value = successes.Select(c => c.Task.JobId).ToArray() },
                            new() { Value = successes.Select(c => c.CostUsd).ToArray() },
                            new() { Value = edges.Select(e => e.TaskId).ToArray() },
                            new() { Value = edges.Select(e => e.JobId).ToArray() },
                            new() { Value = edges.Select(e => e.NodeId).ToArray() },
                            new() { Value = edges.Select(e => e.Queue).ToArray() },
                            new() { Value = edges.Select(e => leased.Contains((e.JobId, e.NodeId))).ToArray() },
                            new() { Value = owner },
                            new() { Value = lease },
                            new() { Value = JobStarter.NotifyChannel },
                        },
                    },
                    new NpgsqlBatchCommand("""
                        WITH finished AS (
                          UPDATE jobs j SET status = 'completed', progress = 100, completed_at = now(), updated_at = now(),
                                 result = (SELECT COALESCE(jsonb_object_agg(r.node_id, r.output), '{}')
                                           FROM (SELECT DISTINCT ON (n.node_id) n.node_id, n.output FROM node_runs n
                                                 WHERE n.job_id = j.id AND n.node_id = ANY(string_to_array(u.sinks, ',')) AND n.item_index <= 0
                                                 ORDER BY n.node_id, n.item_index) r)
                          FROM unnest($1::text[], $2::text[]) u(job_id, sinks)
                          WHERE j.id = u.job_id AND j.nodes_done >= j.node_count AND j.status IN ('queued', 'processing')
                          RETURNING j.id)
                        INSERT INTO job_logs (job_id, level, stage, message) SELECT id, 'info', 'job', 'Job completed' FROM finished
                        """)
                    {
                        Parameters =
                        {
                            new() { Value = jobs },
                            new() { Value = jobs.Select(j => string.Join(',', plans[j].Sinks.Select(n => n.Id))).ToArray() },
                        },
                    },
                },
            };
            List<ClaimedTask> continuations;
            await using (var reader = await batch.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct)) { } // the fenced task ids: counting below already leaves out the rest
                await reader.NextResultAsync(ct);
                var orgs = successes.GroupBy(x => x.Task.JobId).ToDictionary(g => g.Key, g => g.First().Task.OrgId, StringComparer.Ordinal);
                (_, continuations) = await ReadFinishAsync(reader, orgs, ct);
            }
            GiveBackUnused(continuations);
            return continuations;
        }

        /// <summary>Asks the worker for slots for these ready-to-be successors; returns the ones to lease to it.</summary>
        private HashSet<(string JobId, string NodeId)> ReserveFor(List<(string JobId, string NodeId, string Queue)> candidates)
        {
            var leased = new HashSet<(string, string)>();
            foreach (var queue in candidates.GroupBy(c => c.Queue))
            {
                var granted = reserve(queue.Key, queue.Count());
                _reserved[queue.Key] = granted;
                foreach (var c in queue.OrderBy(c => c.JobId, StringComparer.Ordinal).ThenBy(c => c.NodeId, StringComparer.Ordinal).Take(granted))
                    leased.Add((c.JobId, c.NodeId));
            }
            return leased;
        }

        /// <summary>Slots reserved for successors that did not become ready go back.</summary>
        private void GiveBackUnused(List<ClaimedTask> continuations)
        {
            foreach (var (queue, count) in _reserved) reserve(queue, -(count - continuations.Count(c => Queue(c) == queue)));
            _reserved.Clear();
        }

        /// <summary>Reads <see cref="FinishSql"/>'s rows: jobs that reached their last node, and successors leased to this worker.</summary>
        private static async Task<(List<string> FinishedJobs, List<ClaimedTask> Continuations)> ReadFinishAsync(NpgsqlDataReader reader,
            Dictionary<string, string> orgs, CancellationToken ct)
        {
            var finishedJobs = new List<string>();
            var continuations = new List<ClaimedTask>();
            while (await reader.ReadAsync(ct))
            {
                switch (reader.GetString(0))
                {
                    case "job" when reader.GetInt32(3) >= reader.GetInt32(4):
                        finishedJobs.Add(reader.GetString(1));
                        break;
                    case "task":
                        var jobId = reader.GetString(1);
                        continuations.Add(new ClaimedTask(reader.GetInt64(5), 1, jobId, orgs[jobId], "processing", reader.GetString(2),
                            reader.GetInt32(3), reader.GetString(6), reader.GetInt32(4), "running", null, null, null, reader.GetFieldValue<DateTimeOffset>(7)));
                        break;
                }
            }
            return (finishedJobs, continuations);
        }

        public void ReturnReservations()
        {
            foreach (var (queue, count) in _reserved) reserve(queue, -count);
            _reserved.Clear();
        }

        private string Queue(ClaimedTask task) => plans[task.JobId].Nodes[task.NodeId].Definition.Queue;

        /// <summary>
        /// Only completions whose task this worker still holds, at the same attempt, count. One round trip: delete or
        /// re-time the fenced tasks and record the successes of those that passed.
        /// </summary>
        private async Task<HashSet<long>> FenceAndSucceedAsync(List<Completion> completions, CancellationToken ct)
        {
            var finishing = completions.Where(c => c is not Completion.Reschedule).ToList();
            var rescheduling = completions.OfType<Completion.Reschedule>().ToList();
            var successes = completions.OfType<Completion.Success>().ToList();
            await using var cmd = new NpgsqlCommand(FenceAndSucceedSql, conn, tx);
            cmd.Parameters.Add(new() { Value = finishing.Select(c => c.Task.TaskId).ToArray() });
            cmd.Parameters.Add(new() { Value = finishing.Select(c => c.Task.TaskAttempts).ToArray() });
            cmd.Parameters.Add(new() { Value = owner });
            cmd.Parameters.Add(new() { Value = rescheduling.Select(c => c.Task.TaskId).ToArray() });
            cmd.Parameters.Add(new() { Value = rescheduling.Select(c => c.Task.TaskAttempts).ToArray() });
            cmd.Parameters.Add(new() { Value = rescheduling.Select(c => c.Delay).ToArray() });
            cmd.Parameters.Add(new() { Value = successes.Select(c => c.Task.TaskId).ToArray() });
            cmd.Parameters.Add(new() { Value = successes.Select(c => c.Task.JobId).ToArray() });
            cmd.Parameters.Add(new() { Value = successes.Select(c => c.Task.NodeId).ToArray() });
            cmd.Parameters.Add(new() { Value = successes.Select(c => c.Task.ItemIndex).ToArray() });
            cmd.Parameters.Add(new() { Value = successes.Select(c => c.Output.GetRawText()).ToArray() });
            cmd.Parameters.Add(new() { Value = successes.Select(c => c.CostUsd).ToArray() });
            cmd.Parameters.Add(new() { Value = rescheduling.Select(c => c.Task.ClaimedAt).ToArray() });
            var held = new HashSet<long>();
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) held.Add(reader.GetInt64(0));
            return held;
        }

        /// <summary>Whole nodes that succeeded are done; items count down their node, which is done with its last item.</summary>
        private async Task FanInAsync(List<Completion.Success> successes, CancellationToken ct)
        {
            if (successes.Count == 0) return;
            foreach (var s in successes)
                if (s.CostUsd != 0) _cost[s.Task.JobId] = _cost.GetValueOrDefault(s.Task.JobId) + s.CostUsd;

            _nodesDone.AddRange(successes.Where(s => !IsItem(s.Task)).Select(s => (s.Task.JobId, s.Task.NodeId, s.Task.OrgId)));

            // Items fan in: count down their node; the node is done when its last item is.
            var items = successes.Where(s => IsItem(s.Task)).GroupBy(s => (s.Task.JobId, s.Task.NodeId)).ToList();
            if (items.Count == 0) return;
            var orgs = successes.GroupBy(s => s.Task.JobId).ToDictionary(g => g.Key, g => g.First().Task.OrgId, StringComparer.Ordinal);
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
                _nodesDone.Add((jobId, nodeId, orgs[jobId]));
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
                _nodesDone.Add((task.JobId, task.NodeId, task.OrgId));
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

        /// <summary>
        /// Whole nodes that finished, in one statement: advance their jobs, count down their successors, and enqueue
        /// the ones that reach zero, leasing to this worker as many as it has free slots for (continuations).
        /// </summary>
        private async Task<List<ClaimedTask>> FinishNodesAsync(CancellationToken ct)
        {
            var jobs = _nodesDone.Select(n => n.JobId).Concat(_cost.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            if (jobs.Count == 0) return [];

            var candidates = _nodesDone
                .SelectMany(n => plans[n.JobId].Nodes[n.NodeId].Successors.Select(successor => (n.JobId, NodeId: successor)))
                .GroupBy(c => c).Select(g => (g.Key.JobId, g.Key.NodeId, Done: g.Count(), Queue: plans[g.Key.JobId].Nodes[g.Key.NodeId].Definition.Queue))
                .OrderBy(c => c.JobId, StringComparer.Ordinal).ThenBy(c => c.NodeId, StringComparer.Ordinal).ToList();
            var leased = ReserveFor(candidates.Select(c => (c.JobId, c.NodeId, c.Queue)).ToList());

            await using var cmd = new NpgsqlCommand(FinishSql("""
                advanced AS (
                  UPDATE jobs j SET nodes_done = j.nodes_done + u.done, progress = LEAST(99, (j.nodes_done + u.done) * 100 / j.node_count),
                                    cost_total_usd = j.cost_total_usd + u.cost, updated_at = now()
                  FROM unnest($1::text[], $2::int[], $3::numeric[]) u(job_id, done, cost)
                  WHERE j.id = u.job_id AND j.status IN ('queued', 'processing')
                  RETURNING j.id, j.nodes_done, j.node_count),
                candidates AS (
                  SELECT * FROM unnest($4::text[], $5::text[], $6::int[], $7::text[], $8::bool[]) u(job_id, node_id, done, queue, mine)),
                """), conn, tx);
            cmd.Parameters.Add(new() { Value = jobs.ToArray() });
            cmd.Parameters.Add(new() { Value = jobs.Select(j => _nodesDone.Count(n => n.JobId == j)).ToArray() });
            cmd.Parameters.Add(new() { Value = jobs.Select(j => _cost.GetValueOrDefault(j)).ToArray() });
            cmd.Parameters.Add(new() { Value = candidates.Select(c => c.JobId).ToArray() });
            cmd.Parameters.Add(new() { Value = candidates.Select(c => c.NodeId).ToArray() });
            cmd.Parameters.Add(new() { Value = candidates.Select(c => c.Done).ToArray() });
            cmd.Parameters.Add(new() { Value = candidates.Select(c => c.Queue).ToArray() });
            cmd.Parameters.Add(new() { Value = candidates.Select(c => leased.Contains((c.JobId, c.NodeId))).ToArray() });
            cmd.Parameters.Add(new() { Value = owner });
            cmd.Parameters.Add(new() { Value = lease });
            cmd.Parameters.Add(new() { Value = JobStarter.NotifyChannel });

            var orgs = _nodesDone.GroupBy(n => n.JobId).ToDictionary(g => g.Key, g => g.First().OrgId, StringComparer.Ordinal);
            List<string> finishedJobs;
            List<ClaimedTask> continuations;
            await using (var reader = await cmd.ExecuteReaderAsync(ct)) (finishedJobs, continuations) = await ReadFinishAsync(reader, orgs, ct);
            foreach (var jobId in finishedJobs) await TaskStore.CompleteJobAsync(conn, tx, jobId, plans[jobId], ct);
            return continuations;
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
