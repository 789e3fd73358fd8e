# Shared set-up for ./run.sh and ./test.sh: system packages, a private PostgreSQL, the build.
# Sourced, not run. Everything here is idempotent.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOCAL="$ROOT/.local"
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
    dir="/var/lib/fentaweb/$(printf '%s' "$ROOT" | sha1sum | cut -c1-12)/pg"
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

build_solution() {
  say "building (Release)"
  dotnet build "$ROOT/FentaWeb.sln" -c Release -nologo -v quiet > "$LOCAL/build.log" 2>&1 ||
    { grep -E 'error' "$LOCAL/build.log" | sort -u >&2; die "the build failed; full log in .local/build.log"; }
}
