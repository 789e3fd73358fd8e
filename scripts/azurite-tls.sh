#!/usr/bin/env bash
# eval "$(scripts/azurite-tls.sh)": makes Azurite's TLS certificate as ./test.sh does (once, in .local/azurite-tls) and
# prints the exports a shell needs before running `dotnet test` directly: the tests' Azurite serves HTTPS with this
# certificate, and the test processes trust it through SSL_CERT_FILE.
source "$(dirname "$0")/common.sh"
mkdir -p "$LOCAL"
ensure_azurite_tls
printf 'export FENTA_AZURITE_CERT=%q FENTA_AZURITE_KEY=%q SSL_CERT_FILE=%q\n' "$FENTA_AZURITE_CERT" "$FENTA_AZURITE_KEY" "$SSL_CERT_FILE"
