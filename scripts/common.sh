# Shared set-up for ./run.sh and ./test.sh: system packages, a private PostgreSQL, Azurite, the build.
# Sourced, not run. Everything here is idempotent.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The private cluster, Azurite's data, secrets and logs; FENTA_LOCAL_DIR puts them elsewhere (a second stack beside the
# first needs that and its own ports).
LOCAL=${FENTA_LOCAL_DIR:-$ROOT/.local}
# The build run.sh serves from.
FENTA_CONFIGURATION=${FENTA_CONFIGURATION:-Release}
FENTA_PG_PORT=${FENTA_PG_PORT:-55432}
FENTA_PG_USER=fenta
FENTA_PG_DATABASE=${FENTA_PG_DATABASE:-fentaweb}
# PostgreSQL refuses to run as root, so as root the cluster belongs to this unprivileged OS user.
FENTA_PG_OS_USER=${FENTA_PG_OS_USER:-fentapg}

say() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

pg_bin_dir() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
  done
  return 1
}

ensure_system_packages() {
  command -v dotnet >/dev/null || die "the .NET SDK is required (https://dot.net); dotnet is not on PATH"
  local missing=()
  pg_bin_dir >/dev/null || missing+=(postgresql)
  command -v ffmpeg >/dev/null || missing+=(ffmpeg)
  command -v ffprobe >/dev/null || missing+=(ffmpeg)
  command -v espeak-ng >/dev/null || missing+=(espeak-ng)
  [ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
  command -v curl >/dev/null || missing+=(curl)
  if [ "${1:-}" = "--for-tests" ]; then
    # The tests run seed 000's webhook verifier and its clients: Python (standard library) and Go.
    python3 -c 'import json, ssl, urllib.request' 2>/dev/null || missing+=(python3)
    command -v go >/dev/null || missing+=(golang-go)
    # The web app's browser tests drive Debian's Chromium (Playwright's executablePath; no browser download).
    [ -x /usr/bin/chromium ] || missing+=(chromium)
  fi
  command -v openssl >/dev/null || missing+=(openssl)
  [ -e /etc/ssl/certs/ca-certificates.crt ] || missing+=(ca-certificates)
  [ ${#missing[@]} -eq 0 ] && return 0
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  if [ "$(id -u)" -eq 0 ]; then
    say "installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    die "missing system packages; install them with:  sudo apt-get install -y ${missing[*]}"
  fi
}

# Runs a command as the cluster's owner: ourselves, or the unprivileged user when we are root.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u "$FENTA_PG_OS_USER" -- "$@"; else "$@"; fi
}

ensure_pg_os_user() {
  [ "$(id -u)" -eq 0 ] || return 0
  id -u "$FENTA_PG_OS_USER" >/dev/null 2>&1 ||
    useradd --system --no-create-home --shell /usr/sbin/nologin "$FENTA_PG_OS_USER"
}

random_secret() { head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'; }

# A secret kept in .local so it survives restarts (the demo key must keep working between runs).
local_secret() {
  local file="$LOCAL/$1"
  [ -s "$file" ] || { (umask 077; printf '%s%s' "${2:-}" "$(random_secret)" > "$file"); }
  cat "$file"
}

pg_data_dir() {
  local dir="$LOCAL/pg"
  # The cluster owner must be able to reach the folder; a checkout under /root is not reachable, so use /var/lib.
  if [ "$(id -u)" -eq 0 ] && ! runuser -u "$FENTA_PG_OS_USER" -- test -x "$LOCAL" 2>/dev/null; then
    dir="/var/lib/fentaweb/$(printf '%s' "${FENTA_LOCAL_DIR:-$ROOT}" | sha1sum | cut -c1-12)/pg"
  fi
  echo "$dir"
}

FENTA_PG_STARTED_HERE=0

# Starts the private cluster on loopback (initializing it on first use) and creates the database.
ensure_postgres() {
  local bin data password
  bin=$(pg_bin_dir)
  mkdir -p "$LOCAL"
  chmod 755 "$LOCAL"
  ensure_pg_os_user
  data=$(pg_data_dir)
  password=$(local_secret pg.password)
  if [ ! -s "$data/PG_VERSION" ]; then
    say "initializing a private PostgreSQL cluster in $data"
    mkdir -p "$data"
    [ "$(id -u)" -eq 0 ] && chown -R "$FENTA_PG_OS_USER" "$(dirname "$data")"
    local pwfile; pwfile=$(mktemp)
    printf '%s' "$password" > "$pwfile"
    [ "$(id -u)" -eq 0 ] && chown "$FENTA_PG_OS_USER" "$pwfile"
    as_pg "$bin/initdb" -D "$data" -U "$FENTA_PG_USER" --pwfile="$pwfile" --auth=scram-sha-256 \
      --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$pwfile"
    cat >> "$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 200
CONF
  fi
  if ! as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    say "starting PostgreSQL on 127.0.0.1:$FENTA_PG_PORT"
    as_pg "$bin/pg_ctl" -D "$data" -l "$data/../postgres.log" -o "-p $FENTA_PG_PORT" -w -t 60 start >/dev/null ||
      die "PostgreSQL did not start; see $data/../postgres.log"
    FENTA_PG_STARTED_HERE=1
  fi
  export PGPASSWORD="$password"
  if ! psql -h 127.0.0.1 -p "$FENTA_PG_PORT" -U "$FENTA_PG_USER" -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = '$FENTA_PG_DATABASE'" | grep -q 1; then
    psql -h 127.0.0.1 -p "$FENTA_PG_PORT" -U "$FENTA_PG_USER" -d postgres -qc "CREATE DATABASE $FENTA_PG_DATABASE" >/dev/null
  fi
  export FENTA_DB="Host=127.0.0.1;Port=$FENTA_PG_PORT;Username=$FENTA_PG_USER;Password=$password;Database=$FENTA_PG_DATABASE"
}

stop_postgres() {
  [ "$FENTA_PG_STARTED_HERE" -eq 1 ] || return 0
  say "stopping PostgreSQL"
  as_pg "$(pg_bin_dir)/pg_ctl" -D "$(pg_data_dir)" -m fast -w stop >/dev/null || true
}

# Azurite (Microsoft's Azure Storage emulator), pinned in tools/azurite/package-lock.json and installed with npm ci.
FENTA_AZURITE_BLOB_PORT=${FENTA_AZURITE_BLOB_PORT:-10000}
FENTA_AZURITE_QUEUE_PORT=${FENTA_AZURITE_QUEUE_PORT:-10001}
FENTA_AZURITE_TABLE_PORT=${FENTA_AZURITE_TABLE_PORT:-10002}
# The emulator's well-known development account and its published key (not a secret).
FENTA_AZURITE_ACCOUNT=devstoreaccount1
FENTA_AZURITE_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
# ensure_azurite_tls exports FENTA_AZURITE_KEY as the path of the TLS key (the tests' Azurite reads it), so the account
# key is also kept here, for ensure_media_cors.
FENTA_AZURITE_ACCOUNT_KEY=$FENTA_AZURITE_KEY
FENTA_AZURITE_PID=""

# Node.js and npm, for the local tools pinned in tools/ (Azurite, MailDev).
ensure_node() {
  command -v node >/dev/null && command -v npm >/dev/null && return 0
  if [ "$(id -u)" -eq 0 ]; then
    say "installing system packages: nodejs npm"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  else
    die "Node.js is required for Azurite and MailDev; install it with:  sudo apt-get install -y nodejs npm"
  fi
}

# npm ci in $1 (a folder with a package-lock.json) when its node_modules is missing or older than the lock; $2 names
# it on the console. Needs ensure_node first.
npm_ci_if_stale() {
  local dir=$1
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    say "installing $2 from ${dir#"$ROOT"/}/package-lock.json (npm ci)"
    (cd "$dir" && npm ci --no-audit --no-fund --silent) >&2 ||
      die "npm ci failed in ${dir#"$ROOT"/}; run it there without --silent to see why"
  fi
}

# Installs the tool pinned in tools/$1/package-lock.json (npm_ci_if_stale) and prints the path of its binary; $2 names it.
npm_tool() {
  npm_ci_if_stale "$ROOT/tools/$1" "$2"
  echo "$ROOT/tools/$1/node_modules/.bin/$1"
}

# Waits (up to 30 s) until each of the ports accepts connections on loopback, or stops the process and fails, showing
# its log. Usage: wait_for_ports PID NAME LOG PORT...
wait_for_ports() {
  local pid=$1 name=$2 log=$3 waited=0 port
  shift 3
  for port in "$@"; do
    until port_open "$port"; do
      if ! process_running "$pid" || [ "$waited" -ge 300 ]; then
        stop_process "$pid"
        tail -n 40 "$log" >&2
        die "$name did not start on ports $* (log above, full log in $log)"
      fi
      sleep 0.1
      waited=$((waited + 1))
    done
  done
}

# Stops a process started here: TERM, up to 10 s to exit, then KILL.
stop_process() { stop_processes 10 "$@"; }

# Stops processes started here together: TERM to each, up to $1 seconds for all of them to exit, then KILL to any
# still running (named on the console), and reaps them. Empty or finished pids are fine; it never fails, so a clean-up
# under set -e always reaches its next step.
stop_processes() {
  local grace=$1 pid waited=0 running
  shift
  for pid in "$@"; do kill "$pid" 2>/dev/null || true; done
  while :; do
    running=()
    for pid in "$@"; do process_running "$pid" && running+=("$pid"); done
    [ ${#running[@]} -gt 0 ] && [ "$waited" -lt $((grace * 10)) ] || break
    sleep 0.1
    waited=$((waited + 1))
  done
  for pid in "${running[@]}"; do
    say "pid $pid ($(ps -o args= -p "$pid" 2>/dev/null | cut -c1-100)) did not stop within $grace s of TERM; killing it"
    kill -9 "$pid" 2>/dev/null || true
  done
  for pid in "$@"; do wait "$pid" 2>/dev/null || true; done
  return 0
}

# The pinned Azurite (FENTA_AZURITE_BIN).
ensure_azurite_installed() {
  ensure_node
  local major; major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  # Azurite 3.37.0 declares Node.js >= 22; it runs on 20 (its 22-only dependencies are the telemetry we turn off).
  [ "$major" -ge 20 ] ||
    say "warning: node is $(node --version 2>/dev/null || echo unknown) but Azurite 3.37.0 wants Node.js >= 22 (20 works); it may not run"
  FENTA_AZURITE_BIN=$(npm_tool azurite Azurite)
  export FENTA_AZURITE_BIN
}

# Azurite serves HTTPS with a self-signed certificate for 127.0.0.1, because asset links are user delegation SAS: the
# user delegation key that signs them is only issued to Entra ID (bearer token) callers, and Azurite takes bearer tokens
# (--oauth basic) only over HTTPS. The .NET processes trust the certificate through SSL_CERT_FILE, a bundle of the
# system's CAs and this certificate: .NET on Linux reads its trusted roots from there once, at start, so it is exported
# before any of them starts (the tests' own Azurite uses the same certificate: FENTA_AZURITE_CERT, FENTA_AZURITE_KEY).
ensure_azurite_tls() {
  local dir="$LOCAL/azurite-tls"
  mkdir -p "$dir"
  if [ ! -s "$dir/key.pem" ] || ! openssl x509 -checkend 86400 -noout -in "$dir/cert.pem" >/dev/null 2>&1; then
    say "making a TLS certificate for Azurite (127.0.0.1) in $dir"
    (umask 077; openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 825 -subj "/CN=127.0.0.1" \
      -addext "subjectAltName=IP:127.0.0.1" -keyout "$dir/key.pem" -out "$dir/cert.pem" >/dev/null 2>&1) ||
      die "openssl could not make Azurite's certificate in $dir"
    rm -f "$dir/ca-bundle.pem"
  fi
  if [ ! -s "$dir/ca-bundle.pem" ] || [ "$dir/cert.pem" -nt "$dir/ca-bundle.pem" ] || [ /etc/ssl/certs/ca-certificates.crt -nt "$dir/ca-bundle.pem" ]; then
    cat /etc/ssl/certs/ca-certificates.crt "$dir/cert.pem" > "$dir/ca-bundle.pem.tmp" 2>/dev/null || cp "$dir/cert.pem" "$dir/ca-bundle.pem.tmp"
    mv "$dir/ca-bundle.pem.tmp" "$dir/ca-bundle.pem"
  fi
  export FENTA_AZURITE_CERT="$dir/cert.pem" FENTA_AZURITE_KEY="$dir/key.pem" SSL_CERT_FILE="$dir/ca-bundle.pem"
}

# The emulator's connection string for the given ports (explicit endpoints, so any client library accepts it).
azurite_connection_string() {
  printf 'DefaultEndpointsProtocol=https;AccountName=%s;AccountKey=%s;BlobEndpoint=https://127.0.0.1:%s/%s;QueueEndpoint=https://127.0.0.1:%s/%s;TableEndpoint=https://127.0.0.1:%s/%s;' \
    "$FENTA_AZURITE_ACCOUNT" "$FENTA_AZURITE_KEY" "$1" "$FENTA_AZURITE_ACCOUNT" "$2" "$FENTA_AZURITE_ACCOUNT" "$3" "$FENTA_AZURITE_ACCOUNT"
}

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# True while process $1 runs (a child that exited but was not waited for yet is a zombie: not running).
process_running() { kill -0 "$1" 2>/dev/null && ! grep -qs '^State:[[:space:]]*Z' "/proc/$1/status"; }

# Starts Azurite (blob, queue, table) on loopback over HTTPS with OAuth, its data in .local/azurite, or reuses one
# already listening there with our certificate; exports FENTA_STORAGE (task hub, render queues) and the
# asset container (FENTA_AZURE_BLOB_URL, reached with the emulator-only token credential). A FENTA_STORAGE
# set by the user names the storage to use instead: then nothing is installed or started, and FENTA_AZURE_BLOB_URL must
# name that account's asset container (reached with DefaultAzureCredential: az login, or a managed identity).
ensure_azurite() {
  local blob=$FENTA_AZURITE_BLOB_PORT queue=$FENTA_AZURITE_QUEUE_PORT table=$FENTA_AZURITE_TABLE_PORT connection
  connection=$(azurite_connection_string "$blob" "$queue" "$table")
  if [ -n "${FENTA_STORAGE:-}" ] && [ "$FENTA_STORAGE" != "$connection" ]; then
    [ -n "${FENTA_AZURE_BLOB_URL:-}" ] ||
      die "FENTA_STORAGE names your storage account: set FENTA_AZURE_BLOB_URL to its asset container (https://<account>.blob.core.windows.net/assets) too"
    say "using the storage account in FENTA_STORAGE and the container in FENTA_AZURE_BLOB_URL (Azurite not started)"
    return 0
  fi
  ensure_azurite_installed
  ensure_azurite_tls
  if port_open "$blob"; then
    local server
    server=$(curl -s -o /dev/null -D - --max-time 5 --cacert "$FENTA_AZURITE_CERT" "https://127.0.0.1:$blob/$FENTA_AZURITE_ACCOUNT?comp=list" 2>/dev/null |
      tr -d '\r' | sed -n 's/^[Ss]erver: *//p' | head -n 1) || true
    case "$server" in
      *Azurite*) say "reusing Azurite already listening on 127.0.0.1:$blob ($server)" ;;
      *) die "127.0.0.1:$blob is taken by something that is not Azurite serving HTTPS with $LOCAL/azurite-tls/cert.pem (an Azurite started before it served HTTP: stop it); free it or set FENTA_AZURITE_BLOB_PORT/QUEUE_PORT/TABLE_PORT" ;;
    esac
    port_open "$queue" && port_open "$table" ||
      say "warning: the running Azurite does not listen on queue port $queue and table port $table"
  else
    mkdir -p "$LOCAL/azurite"
    say "starting Azurite on 127.0.0.1:$blob (blob), :$queue (queue), :$table (table)"
    # In a session of its own (setsid), as pg_ctl puts PostgreSQL: Ctrl-C or a TERM to run.sh's process group must not
    # reach the storage before the API and workers using it are down; run.sh stops it itself, after them (stop_azurite).
    setsid "$FENTA_AZURITE_BIN" --blobHost 127.0.0.1 --blobPort "$blob" --queueHost 127.0.0.1 --queuePort "$queue" \
      --tableHost 127.0.0.1 --tablePort "$table" --location "$LOCAL/azurite" \
      --oauth basic --cert "$FENTA_AZURITE_CERT" --key "$FENTA_AZURITE_KEY" \
      --silent --skipApiVersionCheck --loose --disableTelemetry < /dev/null > "$LOCAL/azurite.log" 2>&1 &
    FENTA_AZURITE_PID=$!
    wait_for_ports "$FENTA_AZURITE_PID" Azurite "$LOCAL/azurite.log" "$blob" "$queue" "$table"
  fi
  export FENTA_STORAGE="$connection"
  export FENTA_AZURE_BLOB_URL="https://127.0.0.1:$blob/$FENTA_AZURITE_ACCOUNT/assets"
  export FENTA_AZURE_BLOB_CREDENTIAL=azurite
}

# Browsers upload straight to the asset container through the SAS link (PUT) and play and download from it (GET), so
# the blob service needs a CORS rule for the web app's origins, as infra/main.bicep's mediaCorsOrigins gives the media
# account in Azure (the same rule: GET, HEAD, PUT, OPTIONS, any request header, one hour). Locally the origins are
# FENTA_MEDIA_CORS_ORIGINS (comma-separated, the name infra/main.bicepparam reads), else $1 (run.sh: the API's own
# origin, with localhost for 127.0.0.1, and Vite's dev server). Only on the Azurite ensure_azurite runs or reuses: a
# storage account named by FENTA_STORAGE is left to its Bicep. Set with the emulator's published account key (Shared
# Key, signed here with openssl), once per start; the rule replaces the one before it.
ensure_media_cors() {
  [ "${FENTA_AZURE_BLOB_CREDENTIAL:-}" = azurite ] || return 0
  local origins=${FENTA_MEDIA_CORS_ORIGINS:-$1} account=$FENTA_AZURITE_ACCOUNT version=2021-08-06 date body sts key signature
  origins=$(tr -d ' ' <<<"$origins")
  [ -n "$origins" ] || return 0
  body="<?xml version=\"1.0\" encoding=\"utf-8\"?><StorageServiceProperties><Cors><CorsRule><AllowedOrigins>$origins</AllowedOrigins><AllowedMethods>GET,HEAD,PUT,OPTIONS</AllowedMethods><AllowedHeaders>*</AllowedHeaders><ExposedHeaders>ETag,Content-Length,Content-Range</ExposedHeaders><MaxAgeInSeconds>3600</MaxAgeInSeconds></CorsRule></Cors></StorageServiceProperties>"
  date=$(LC_ALL=C TZ=GMT date '+%a, %d %b %Y %H:%M:%S GMT')
  # The Shared Key string to sign: the verb, eleven standard headers (Content-Length and Content-Type set), the x-ms-
  # headers, and the path-style resource (/account/account/) with its query.
  sts=$(printf 'PUT\n\n\n%s\n\n%s\n\n\n\n\n\n\nx-ms-date:%s\nx-ms-version:%s\n/%s/%s/\ncomp:properties\nrestype:service' \
    "${#body}" application/xml "$date" "$version" "$account" "$account")
  key=$(printf '%s' "$FENTA_AZURITE_ACCOUNT_KEY" | base64 -d | od -An -v -tx1 | tr -d ' \n')
  signature=$(printf '%s' "$sts" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key" -binary | base64 | tr -d '\n')
  curl -fsS -o /dev/null --max-time 10 --cacert "$FENTA_AZURITE_CERT" -X PUT \
    -H "x-ms-date: $date" -H "x-ms-version: $version" -H "Content-Type: application/xml" \
    -H "Authorization: SharedKey $account:$signature" --data-binary "$body" \
    "https://127.0.0.1:$FENTA_AZURITE_BLOB_PORT/$account/?restype=service&comp=properties" ||
    die "could not set Azurite's CORS rule for $origins (browser uploads need it); see $LOCAL/azurite.log"
  say "Azurite's blob service takes browser uploads and downloads from $origins"
}

# Stops the Azurite started by ensure_azurite; one that was already running is left alone.
stop_azurite() {
  [ -n "$FENTA_AZURITE_PID" ] || return 0
  say "stopping Azurite"
  stop_process "$FENTA_AZURITE_PID"
  FENTA_AZURITE_PID=""
}

# MailDev (an SMTP catcher with a web UI), pinned in tools/maildev/package-lock.json and installed with npm ci: locally
# the API's mails (address verification, password reset, invitations) go there instead of to anyone's inbox.
FENTA_MAILDEV_SMTP_PORT=${FENTA_MAILDEV_SMTP_PORT:-1025}
FENTA_MAILDEV_WEB_PORT=${FENTA_MAILDEV_WEB_PORT:-1080}
FENTA_MAILDEV_PID=""

ensure_maildev_installed() {
  ensure_node
  FENTA_MAILDEV_BIN=$(npm_tool maildev MailDev)
  export FENTA_MAILDEV_BIN
}

# Points the API at MailDev on loopback (started here, or one already listening), unless FENTA_SMTP_HOST names a real
# SMTP server: then nothing is installed or started and the mails go there.
ensure_maildev() {
  if [ -n "${FENTA_SMTP_HOST:-}" ]; then
    say "sending mail through $FENTA_SMTP_HOST (MailDev not started)"
    return 0
  fi
  ensure_maildev_installed
  local smtp=$FENTA_MAILDEV_SMTP_PORT web=$FENTA_MAILDEV_WEB_PORT
  if port_open "$smtp"; then
    say "reusing the SMTP server already listening on 127.0.0.1:$smtp (expected MailDev; its UI on :$web)"
  else
    say "starting MailDev: SMTP on 127.0.0.1:$smtp, mails shown at http://127.0.0.1:$web"
    mkdir -p "$LOCAL/maildev"
    # Its own session, like Azurite's: stopped by run.sh after the API that sends through it.
    setsid "$FENTA_MAILDEV_BIN" --smtp "$smtp" --ip 127.0.0.1 --web "$web" --web-ip 127.0.0.1 --mail-directory "$LOCAL/maildev" \
      < /dev/null > "$LOCAL/maildev.log" 2>&1 &
    FENTA_MAILDEV_PID=$!
    wait_for_ports "$FENTA_MAILDEV_PID" MailDev "$LOCAL/maildev.log" "$smtp" "$web"
  fi
  # Plain SMTP is fine here: the catcher listens on loopback only.
  export FENTA_SMTP_HOST=127.0.0.1 FENTA_SMTP_PORT="$smtp" FENTA_SMTP_TLS=none
  export FENTA_SMTP_FROM=${FENTA_SMTP_FROM:-"FentaWeb <no-reply@fentaweb.local>"}
  export FENTA_MAILDEV_URL="http://127.0.0.1:$web"
}

stop_maildev() {
  [ -n "$FENTA_MAILDEV_PID" ] || return 0
  say "stopping MailDev"
  stop_process "$FENTA_MAILDEV_PID"
  FENTA_MAILDEV_PID=""
}

# An Azure Functions host for FunctionsHostTests: FENTA_FUNCTIONS_HOST as given, else the one built from Microsoft's source
# in ../shared/tools/funchost (Core Tools cannot be downloaded here), unpacked once into .local. Without either the tests
# look for func on the PATH, and say they did not run if there is none.
ensure_functions_host() {
  [ -n "${FENTA_FUNCTIONS_HOST:-}" ] && return 0
  local archive="$ROOT/../shared/tools/funchost/functions-host.tar.gz" dir="$LOCAL/functions-host"
  [ -f "$archive" ] || return 0
  if [ ! -f "$dir/functions-host/Microsoft.Azure.WebJobs.Script.WebHost.dll" ] || [ "$archive" -nt "$dir/functions-host" ]; then
    say "unpacking the Functions host from $archive"
    rm -rf "$dir" && mkdir -p "$dir" && tar -xzf "$archive" -C "$dir" && touch "$dir/functions-host"
  fi
  export FENTA_FUNCTIONS_HOST="$dir/functions-host"
}

build_solution() {
  say "building ($FENTA_CONFIGURATION)"
  dotnet build "$ROOT/FentaWeb.sln" -c "$FENTA_CONFIGURATION" -nologo -v quiet > "$LOCAL/build.log" 2>&1 ||
    { grep -E 'error' "$LOCAL/build.log" | sort -u >&2; die "the build failed; full log in $LOCAL/build.log"; }
}

# The web app (src/Web): npm ci from its lock file when node_modules is missing or older than the lock, then the Vite
# build into src/Web/dist. Run after the .NET build: the build generates the typed client from the OpenAPI document the
# API's build wrote (src/Functions.Api/bin/<Configuration>/net10.0/openapi/v1.json), so an API change that the web app
# no longer fits fails here.
build_web() {
  local dir="$ROOT/src/Web" configuration=${1:-$FENTA_CONFIGURATION}
  ensure_node
  npm_ci_if_stale "$dir" "the web app's packages"
  say "building the web app (src/Web/dist)"
  (cd "$dir" && FENTA_OPENAPI="${FENTA_OPENAPI:-$ROOT/src/Functions.Api/bin/$configuration/net10.0/openapi/v1.json}" \
    npm run build --silent) > "$LOCAL/web-build.log" 2>&1 ||
    { tail -n 40 "$LOCAL/web-build.log" >&2; die "the web build failed; full log in $LOCAL/web-build.log"; }
}
