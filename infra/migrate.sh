#!/usr/bin/env bash
# infra/migrate.sh: runs the tenant's migrate job once and waits for it. The job runs the API's image as `migrate`
# (src/Functions.Api/Hosting/MigrateCommand.cs), signed in as the database's administrator identity: it applies the
# migrations and grants the apps' identities read and write. The apps do not migrate in Azure; their /readyz says
# "migrations are not all applied" until this succeeds. Every deployment runs it; a run with nothing to apply is quick.
#
#   infra/migrate.sh <resource-group> <migrate-job> [<api-image>]
#
# With <api-image> (azd's path, where the image is deployed after the template), the job is first pointed at that image,
# so the migrations are the new build's. FENTA_MIGRATE_WAIT_SECONDS (1800 by default) bounds the wait.
set -euo pipefail

say() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31mmigrate:\033[0m %s\n' "$*" >&2; exit 1; }

[ $# -ge 2 ] || die "usage: infra/migrate.sh <resource-group> <migrate-job> [<api-image>]"
group=$1 job=$2 image=${3:-}
wait_seconds=${FENTA_MIGRATE_WAIT_SECONDS:-1800}

if [ -n "$image" ]; then
  say "migrate job $job runs $image"
  az containerapp job update -g "$group" -n "$job" --image "$image" -o none
fi
execution=$(az containerapp job start -g "$group" -n "$job" --query name -o tsv)
[ -n "$execution" ] || die "az containerapp job start did not name an execution of $job"
say "migrating the database (execution $execution of $job)"

deadline=$((SECONDS + wait_seconds))
while :; do
  status=$(az containerapp job execution show -g "$group" -n "$job" --job-execution-name "$execution" --query properties.status -o tsv)
  case $status in
    Succeeded) say "database migrated"; exit 0 ;;
    Failed | Stopped | Degraded)
      die "execution $execution of $job ended $status; its log: az containerapp job logs show -g $group -n $job --execution $execution --container migrate" ;;
  esac
  [ $SECONDS -lt $deadline ] || die "execution $execution of $job still ${status:-unknown} after ${wait_seconds}s"
  sleep "${FENTA_MIGRATE_POLL_SECONDS:-10}"
done
