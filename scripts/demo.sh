# ./run.sh --demo: runs a sample workflow of the demo org through the public API and reports the MP4.
# Sourced by run.sh once the API and workers are up. Plain curl and grep: no JSON tool is assumed installed.

json_field() { grep -o "\"$1\":[^,}]*" | head -n 1 | cut -d: -f2- | tr -d '"'; }

run_demo() {
  local url=$1 key=$2 name=$3 auth workflow job status body started
  auth="Authorization: Bearer $key"
  workflow=$(curl -fsS -H "$auth" "$url/v1/workflows?limit=100" | grep -o "\"id\":\"wf_[0-9a-f]*\",\"name\":\"$name\"" | head -n 1 | grep -o 'wf_[0-9a-f]*')
  [ -n "$workflow" ] || die "the demo org has no workflow named '$name'"
  say "running '$name' ($workflow)"
  started=$(date +%s)
  job=$(curl -fsS -X POST -H "$auth" -H 'content-type: application/json' -d '{}' "$url/v1/workflows/$workflow/run" | json_field id)
  demo_job=$job
  say "job $job (watch: curl -N -H \"$auth\" $url/v1/jobs/$job/events)"
  while :; do
    body=$(curl -fsS -H "$auth" "$url/v1/jobs/$job")
    status=$(printf '%s' "$body" | json_field status)
    case "$status" in
      completed) break ;;
      failed|cancelled) printf '%s\n' "$body" >&2; die "the job $status (logs: $url/v1/jobs/$job/logs)" ;;
      paused) die "the job is paused: $(printf '%s' "$body" | json_field paused_reason)" ;;
    esac
    printf '\r  %s, %s%%   ' "$status" "$(printf '%s' "$body" | json_field progress)" >&2
    sleep 1
  done
  printf '\n' >&2
  local result video asset link mp4
  # The Output.Render node's output: a flat object with the video asset and its figures.
  result=$(printf '%s' "$body" | grep -o '"type":"Output.Render"[^}]*}' | head -n 1)
  video=$(printf '%s' "$result" | json_field video_asset_id)
  [ -n "$video" ] || die "the job has no rendered video"
  asset=$(curl -fsS -H "$auth" "$url/v1/assets/$video")
  # A signed Blob URL (JSON escapes its & and + as \u0026 and \u002B), served by Azurite over HTTPS with our certificate.
  link=$(printf '%s' "$asset" | grep -o '"download_url":"[^"]*"' | cut -d'"' -f4 | sed 's/\\u0026/\&/g; s/\\u002B/+/g')
  [ -n "$link" ] || die "the render has no download URL: $asset"
  mkdir -p "$LOCAL/demo"
  mp4="$LOCAL/demo/$job.mp4"
  curl -fsS ${FENTA_AZURITE_CERT:+--cacert "$FENTA_AZURITE_CERT"} -o "$mp4" "$link" || die "could not download the render from $link"
  cat <<SUMMARY

  MP4          $mp4
  duration     $(printf '%s' "$result" | json_field duration_seconds) s
  size         $(printf '%s' "$result" | json_field size_bytes) bytes
  resolution   $(printf '%s' "$result" | json_field width)x$(printf '%s' "$result" | json_field height)
  render time  $(printf '%s' "$result" | json_field render_seconds) s (whole job $(( $(date +%s) - started )) s)
  job          $url/v1/jobs/$job
  download     $link

SUMMARY
}

# ./run.sh --demo publish: connects the demo org's accounts on the three platforms' sandboxes (their consent pages
# approve at once: the authorization URL redirects to the API's callback) and publishes the demo job's video to them.
publish_demo() {
  local url=$1 key=$2 job=$3 auth platform consent callback integration integrations="" body status
  auth="Authorization: Bearer $key"
  for platform in youtube tiktok instagram; do
    consent=$(curl -fsS -X POST -H "$auth" -H 'content-type: application/json' -d '{}' "$url/v1/integrations/$platform/connect" |
      grep -o '"authorization_url":"[^"]*"' | cut -d'"' -f4 | sed 's/\\u0026/\&/g; s/\\u002B/+/g')
    [ -n "$consent" ] || die "could not start connecting $platform"
    callback=$(curl -fsS -o /dev/null -w '%{redirect_url}' "$consent")
    [ -n "$callback" ] || die "the $platform sandbox did not send the browser back"
    integration=$(curl -fsS "$callback" | json_field id)
    [ -n "$integration" ] || die "connecting $platform failed"
    say "connected $platform as $integration"
    integrations="$integrations${integrations:+,}{\"integration_id\":\"$integration\"}"
  done
  body=$(curl -fsS -X POST -H "$auth" -H 'content-type: application/json' \
    -d "{\"title\":\"Daily News Shorts\",\"description\":\"Made with FentaWeb\",\"hashtags\":[\"shorts\",\"news\"],\"targets\":[$integrations]}" \
    "$url/v1/jobs/$job/publish") || die "the publication was refused"
  local publication
  publication=$(printf '%s' "$body" | json_field id)
  say "publication $publication"
  while :; do
    body=$(curl -fsS -H "$auth" "$url/v1/publications/$publication")
    status=$(printf '%s' "$body" | json_field status)
    case "$status" in succeeded|failed|partially_failed|cancelled) break ;; esac
    printf '\r  %s   ' "$status" >&2
    sleep 1
  done
  printf '\n' >&2
  printf '%s' "$body" | grep -o '"url":"http[^"]*"' | cut -d'"' -f4 | sed 's/^/  /' >&2
  [ "$status" = succeeded ] || { printf '%s\n' "$body" >&2; die "the publication $status"; }
  say "published to all three sandboxes"
}
