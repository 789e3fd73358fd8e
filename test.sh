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

# The web app: its build checks it against the OpenAPI document the build above wrote (Debug).
build_web Debug

say "running every test"
# The solution's test projects run in parallel. EndToEnd.Tests (worker and renderer processes, Functions hosts, ./run.sh)
# takes longest; FentaWeb.sln lists it first among them, so it is among the first started rather than the last.
started=$(date +%s)
# A failing test must not end the script here (errexit, pipefail): the web app's tests still run and the line is printed.
set +e
dotnet test "$ROOT/FentaWeb.sln" --no-build -nologo --logger "console;verbosity=minimal" 2>&1 | tee "$LOCAL/test.log"
status=${PIPESTATUS[0]}
set -e

# One closing line over every test project: "N passed, N failed".
passed=$(grep -oE 'Passed: +[0-9]+' "$LOCAL/test.log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -oE 'Failed: +[0-9]+' "$LOCAL/test.log" | awk '{s+=$2} END {print s+0}')

# The web app's component and logic tests (vitest), after the .NET tests; they fail the script when they fail.
say "running the web app's tests (vitest)"
if (cd "$ROOT/src/Web" && npm test --silent) 2>&1 | tee "$LOCAL/web-test.log"; then web_status=0; else web_status=$?; fi
web_summary=$(sed 's/\x1b\[[0-9;]*m//g' "$LOCAL/web-test.log" | grep -E '^ *Tests ' | tail -n 1)
web_passed=$(grep -oE '[0-9]+ passed' <<<"$web_summary" | grep -oE '[0-9]+' || true)
web_failed=$(grep -oE '[0-9]+ failed' <<<"$web_summary" | grep -oE '[0-9]+' || true)
[ -n "$web_summary" ] || web_failed=${web_failed:-1}
passed=$((passed + ${web_passed:-0}))
failed=$((failed + ${web_failed:-0}))
[ "$web_status" -eq 0 ] || { say "the web app's tests failed (log: $LOCAL/web-test.log)"; [ "$status" -ne 0 ] || status=$web_status; }

# The web app's browser tests (Playwright driving Debian's Chromium, src/Web/e2e): Playwright starts ./run.sh (Debug,
# built above) in .local/e2e on ports of its own (src/Web/e2e/stack.ts), runs them against it and stops it. After the
# .NET tests, which start stacks of their own, not beside them. They fail the script when they fail.
say "running the web app's browser tests (Playwright)"
if (cd "$ROOT/src/Web" && FENTA_CONFIGURATION=Debug npm run test:e2e --silent) 2>&1 | tee "$LOCAL/web-e2e.log"; then e2e_status=0; else e2e_status=$?; fi
e2e_summary=$(sed 's/\x1b\[[0-9;]*m//g' "$LOCAL/web-e2e.log" | grep -E '^ +[0-9]+ (passed|failed|interrupted)' || true)
e2e_passed=$(grep -E '^ +[0-9]+ passed' <<<"$e2e_summary" | grep -oE '[0-9]+' | head -n 1 || true)
e2e_failed=$({ grep -E '^ +[0-9]+ (failed|interrupted)' <<<"$e2e_summary" || true; } | awk '{s+=$1} END {print s+0}')
[ "$e2e_status" -eq 0 ] || [ "${e2e_failed:-0}" -gt 0 ] || e2e_failed=1
passed=$((passed + ${e2e_passed:-0}))
failed=$((failed + ${e2e_failed:-0}))
[ "$e2e_status" -eq 0 ] || { say "the web app's browser tests failed (log: $LOCAL/web-e2e.log; traces and screenshots: src/Web/test-results)"; [ "$status" -ne 0 ] || status=$e2e_status; }

say "suite took $(( $(date +%s) - started )) s"
echo "$passed passed, $failed failed"
exit "$status"
