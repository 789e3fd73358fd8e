#!/usr/bin/env bash
# ./test.sh   set up what the tests need (system packages, build) and run every test.
# Tests start their own throwaway PostgreSQL cluster; nothing here depends on a database started by hand.
source "$(dirname "$0")/scripts/common.sh"

ensure_system_packages --for-tests
ensure_pg_os_user
# The tests start their own Azurite processes (FENTA_AZURITE_BIN, free ports, in memory); this only installs it and
# makes the certificate they serve HTTPS with, which the test processes trust through SSL_CERT_FILE.
ensure_azurite_installed
ensure_azurite_tls
# Likewise MailDev: the tests start their own (FENTA_MAILDEV_BIN, free ports) and read the API's mails from it.
ensure_maildev_installed
ensure_functions_host

mkdir -p "$LOCAL"
say "building (Debug)"
dotnet build "$ROOT/FentaWeb.sln" -nologo -v quiet > "$LOCAL/build.log" 2>&1 ||
  { grep -E 'error' "$LOCAL/build.log" | sort -u >&2; die "the build failed; full log in $LOCAL/build.log"; }

say "running every test"
# The solution's test projects run in parallel. EndToEnd.Tests (worker and renderer processes, Functions hosts, ./run.sh)
# takes longest; FentaWeb.sln lists it first among them, so it is among the first started rather than the last.
started=$(date +%s)
dotnet test "$ROOT/FentaWeb.sln" --no-build -nologo --logger "console;verbosity=minimal" 2>&1 | tee "$LOCAL/test.log"
status=${PIPESTATUS[0]}

# One closing line over every test project: "N passed, N failed".
passed=$(grep -oE 'Passed: +[0-9]+' "$LOCAL/test.log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -oE 'Failed: +[0-9]+' "$LOCAL/test.log" | awk '{s+=$2} END {print s+0}')
say "suite took $(( $(date +%s) - started )) s"
echo "$passed passed, $failed failed"
exit "$status"
