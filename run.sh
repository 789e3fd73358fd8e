#!/usr/bin/env bash
# ./run.sh          set up everything, start the API on http://127.0.0.1:8080 and an engine worker; serve until Ctrl-C
# ./run.sh --check  the same, then wait until it is healthy and ready, and exit 0 (for automation)
# ./run.sh --demo   the same, then run the "Daily News Shorts" sample workflow and print the MP4's path and summary
# ./run.sh --demo ai-story   the same with "AI Story with Generated Clips" (generated clips: local without FENTA_KIE_API_KEY)
# ./run.sh --demo review     the same with "Product Review" (an uploaded clip, karaoke captions, 1:1)
# ./run.sh --demo publish    "Daily News Shorts", then published to the YouTube, TikTok and Instagram sandboxes
source "$(dirname "$0")/scripts/common.sh"

mode=serve
demo_publish=0
case "${1:-}" in
  "") ;;
  --check) mode=check ;;
  --demo) mode=demo
    case "${2:-news}" in
      news) demo_workflow="Daily News Shorts" ;;
      ai-story) demo_workflow="AI Story with Generated Clips" ;;
      review) demo_workflow="Product Review" ;;
      publish) demo_workflow="Daily News Shorts"; demo_publish=1 ;;
      *) die "unknown demo '$2' (use: news, ai-story, review, publish)" ;;
    esac ;;
  *) die "unknown option '$1' (use: ./run.sh [--check|--demo [news|ai-story|review|publish]])" ;;
esac

api_pid=""
worker_pid=""
render_pid=""
sandbox_pid=""
stopped=0
# Stops what this run started, in dependency order: the API and the workers first (TERM, then up to
# FENTA_STOP_GRACE_SECONDS for them to exit, then KILL), then MailDev, Azurite and PostgreSQL, which they use. A worker
# that outlives Azurite waits out its backend's partition-table timeouts (35-60 s) instead of stopping. Azurite and
# MailDev run in sessions of their own and pg_ctl puts PostgreSQL in its own, so a signal to run.sh's whole process
# group (Ctrl-C, kill -TERM -PGID) reaches only run.sh and the .NET processes, and the storage stays up until they
# are gone. Runs once (a signal, then the exit), without errexit, so nothing in it can skip the steps after it.
stop_stack() {
  [ "$stopped" -eq 0 ] || return 0
  stopped=1
  set +e
  # Signals while it stops (a second Ctrl-C) are ignored, so nothing cuts it short; the console may be gone (a closed
  # terminal's HUP), and a failed write must not end it either.
  trap '' INT TERM HUP PIPE
  [ -z "$api_pid$worker_pid$render_pid" ] || say "stopping the API and the workers"
  stop_processes "${FENTA_STOP_GRACE_SECONDS:-10}" $api_pid $worker_pid $render_pid $sandbox_pid
  stop_maildev
  stop_azurite
  stop_postgres
}
# INT (Ctrl-C), TERM and HUP stop the stack whether they reached run.sh alone or its whole process group; the exit
# status is 128 + the signal's number.
on_signal() {
  trap '' INT TERM HUP
  say "got SIG$1"
  stop_stack
  exit $((128 + $2))
}
trap stop_stack EXIT
trap 'on_signal INT 2' INT
trap 'on_signal TERM 15' TERM
trap 'on_signal HUP 1' HUP

ensure_system_packages
ensure_postgres
ensure_azurite
ensure_maildev

build_solution
build_web

export FENTA_HTTP_PORT=${FENTA_HTTP_PORT:-8080}
export FENTA_JWT_SIGNING_KEY=${FENTA_JWT_SIGNING_KEY:-$(local_secret jwt.key)}
export FENTA_DEMO_API_KEY=${FENTA_DEMO_API_KEY:-$(local_secret demo-api-key fw_)}
export FENTA_DEMO_PASSWORD=${FENTA_DEMO_PASSWORD:-$(local_secret demo-password)}
export FENTA_STOCK_DIR=${FENTA_STOCK_DIR:-$LOCAL/stock}
# The web app the API serves on the same origin as /v1 (built above by build_web).
export FENTA_WEB_DIR=${FENTA_WEB_DIR:-$ROOT/src/Web/dist}
# A local stack posts webhooks to local receivers too; a deployment keeps the default (private addresses refused).
export FENTA_WEBHOOK_ALLOW_PRIVATE_NETWORKS=${FENTA_WEBHOOK_ALLOW_PRIVATE_NETWORKS:-true}
url="http://127.0.0.1:$FENTA_HTTP_PORT"
# Callbacks the workers hand out (KIE.ai's) point at this API unless told otherwise.
export FENTA_PUBLIC_URL=${FENTA_PUBLIC_URL:-$url}
# The web app uploads straight to Azurite and plays from it: its origins (this one, and Vite's dev server) get a CORS
# rule there, as FENTA_MEDIA_CORS_ORIGINS gives the media account in Azure.
ensure_media_cors "$url,http://localhost:$FENTA_HTTP_PORT,http://127.0.0.1:5173,http://localhost:5173"

if [ ! -f "$FENTA_STOCK_DIR/manifest.json" ]; then
  say "drawing the offline stock library into $FENTA_STOCK_DIR (once)"
  dotnet "$ROOT/src/Functions.Orchestrations/bin/$FENTA_CONFIGURATION/net10.0/FentaWeb.Functions.Orchestrations.dll" stock >&2 ||
    die "could not draw the stock library"
fi

# The publishing platforms: without their credentials (FENTA_YOUTUBE_CLIENT_ID, …), their simulators serve as local
# sandboxes on FENTA_SANDBOX_PORT (8091) and the two after it, and the product is pointed at them (settings already set win).
start_platform_sandboxes() {
  if [ -n "${FENTA_YOUTUBE_CLIENT_ID:-}${FENTA_TIKTOK_CLIENT_ID:-}${FENTA_INSTAGRAM_CLIENT_ID:-}" ]; then return 0; fi
  local port=${FENTA_SANDBOX_PORT:-8091} line name
  : > "$LOCAL/sandboxes.log"
  coproc SANDBOXES { exec dotnet "$ROOT/tests/Simulators/bin/$FENTA_CONFIGURATION/net10.0/FentaWeb.Simulators.dll" platforms "$port" 2>> "$LOCAL/sandboxes.log"; }
  sandbox_pid=$SANDBOXES_PID
  while IFS= read -r -t 60 line <&"${SANDBOXES[0]}"; do
    [ "$line" = ready ] && break
    name=${line%%=*}
    [ -n "${!name:-}" ] || export "$line"
  done
  [ "$line" = ready ] || die "the platform sandboxes did not start; see $LOCAL/sandboxes.log"
  FENTA_SANDBOXES="sandboxes of YouTube, TikTok and Instagram on http://127.0.0.1:$port-$((port + 2)) (consent is automatic)"
}
start_platform_sandboxes

say "starting the API on $url, an orchestration worker and the render worker"
# Each process appends to its log, so a restarted one keeps the crash that came before it.
start_api() { dotnet "$ROOT/src/Functions.Api/bin/$FENTA_CONFIGURATION/net10.0/FentaWeb.Functions.Api.dll" >> "$LOCAL/api.log" 2>&1 & api_pid=$!; }
start_worker() { dotnet "$ROOT/src/Functions.Orchestrations/bin/$FENTA_CONFIGURATION/net10.0/FentaWeb.Functions.Orchestrations.dll" >> "$LOCAL/worker.log" 2>&1 & worker_pid=$!; }
start_render() { dotnet "$ROOT/src/Render.Container/bin/$FENTA_CONFIGURATION/net10.0/FentaWeb.Render.dll" worker >> "$LOCAL/render.log" 2>&1 & render_pid=$!; }
: > "$LOCAL/api.log"; : > "$LOCAL/worker.log"; : > "$LOCAL/render.log"
start_api
start_worker
start_render

for _ in $(seq 1 120); do
  kill -0 "$api_pid" 2>/dev/null || { tail -n 40 "$LOCAL/api.log" >&2; die "the API exited during start-up (log above, full log in $LOCAL/api.log)"; }
  kill -0 "$worker_pid" 2>/dev/null || { tail -n 40 "$LOCAL/worker.log" >&2; die "the worker exited during start-up (log above, full log in $LOCAL/worker.log)"; }
  curl -fsS "$url/readyz" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fsS "$url/healthz" >/dev/null || die "the API did not become healthy; see $LOCAL/api.log"
curl -fsS "$url/readyz" >/dev/null || die "the API is up but not ready (database or migrations); see $LOCAL/api.log"

cat <<INFO

  FentaWeb app      $url/
  FentaWeb API      $url   (OpenAPI: $url/openapi/v1.json)
  demo user         demo@fentaweb.local / $FENTA_DEMO_PASSWORD
  demo org          Demo Studio
  demo API key      $FENTA_DEMO_API_KEY
  try               curl -H "Authorization: Bearer $FENTA_DEMO_API_KEY" $url/v1/templates
  mails             ${FENTA_MAILDEV_URL:-sent through $FENTA_SMTP_HOST}   (verification, password reset and invitation links)
  publishing        ${FENTA_SANDBOXES:-YouTube, TikTok and Instagram with the credentials set}
  logs              $LOCAL/{api,worker,render,azurite}.log

INFO

if [ "$mode" = check ]; then
  say "healthy and ready; --check done"
  exit 0
fi
if [ "$mode" = demo ]; then
  source "$ROOT/scripts/demo.sh"
  run_demo "$url" "$FENTA_DEMO_API_KEY" "$demo_workflow"
  [ "$demo_publish" -eq 0 ] || publish_demo "$url" "$FENTA_DEMO_API_KEY" "$demo_job"
  exit $?
fi
say "serving; Ctrl-C stops the API and the workers, then MailDev, Azurite and PostgreSQL"
# A process that dies is started again, after 1 s, then 2, 4 … up to 30 s while it keeps dying (back to 1 s once it has
# run a minute), and the console says so. Only a signal (Ctrl-C, TERM, HUP) stops the stack.
declare -A delay=() started=()
for name in api worker render; do delay[$name]=1; started[$name]=$SECONDS; done
while :; do
  # A half-second tick, not `wait -n` on the three: bash may reap a child that dies before that wait begins (its
  # "Killed" notice), and `wait -n` then waits for the next one to end, so a crash right after a restart went unseen.
  sleep 0.5 & wait $! 2>/dev/null || true
  for name in api worker render; do
    pid_var="${name}_pid"
    pid=${!pid_var}
    process_running "$pid" && continue
    wait "$pid" 2>/dev/null && status=0 || status=$?
    (( SECONDS - started[$name] >= 60 )) && delay[$name]=1
    say "the $name (pid $pid) exited with status $status; starting it again in ${delay[$name]} s (log: $LOCAL/$name.log)"
    # Waited on in the background, so Ctrl-C during the pause stops the stack at once.
    sleep "${delay[$name]}" & wait $!
    "start_$name"
    started[$name]=$SECONDS
    delay[$name]=$(( delay[$name] * 2 > 30 ? 30 : delay[$name] * 2 ))
  done
done
