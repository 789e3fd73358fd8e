#!/usr/bin/env bash
# infra/check-references.sh: waits until App Service has resolved every Key Vault reference in the app settings of the
# given Function apps, and fails naming each setting that it has not (with App Service's status, e.g.
# AccessToKeyVaultDenied or SecretNotFound). An unresolved reference reaches the app as its own text; the apps refuse to
# start on one (issue 26), and this says which setting before anyone reads the apps' logs. Never prints a value.
#
#   infra/check-references.sh <resource-group> <function-app>...
#
# FENTA_REFERENCE_WAIT_SECONDS (300 by default) bounds the wait: role assignments made by the same deployment take a
# few minutes to reach Key Vault, so a first status of AccessToKeyVaultDenied may still turn Resolved.
set -euo pipefail

say() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31mcheck-references:\033[0m %s\n' "$*" >&2; exit 1; }

[ $# -ge 2 ] || die "usage: infra/check-references.sh <resource-group> <function-app>..."
group=$1; shift
wait_seconds=${FENTA_REFERENCE_WAIT_SECONDS:-300}
api_version=2023-12-01

# Prints "<app> <setting> <status>" for each reference of the app that is not Resolved (nothing when all are). The
# setting is the last segment of the reference's resource id (…/config/configreferences/appsettings/<setting>).
unresolved() {
  local id refs ref status
  id=$(az functionapp show -g "$group" -n "$1" --query id -o tsv) || return 1
  refs=$(az rest --method get --uri "$id/config/configreferences/appsettings?api-version=$api_version" \
    --query "value[?properties.status != 'Resolved'].[id, properties.status]" -o tsv) || return 1
  while IFS=$'\t' read -r ref status; do
    if [ -n "$ref" ]; then printf '%s %s %s\n' "$1" "${ref##*/}" "${status:-unknown}"; fi
  done <<<"$refs"
}

deadline=$((SECONDS + wait_seconds))
while :; do
  pending=""
  for app in "$@"; do pending+=$(unresolved "$app"); pending+=$'\n'; done
  pending=$(printf '%s' "$pending" | sed '/^$/d')
  if [ -z "$pending" ]; then
    say "every Key Vault reference of $* is resolved"
    exit 0
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    while read -r app setting status; do
      printf '\033[1;31mcheck-references:\033[0m %s: %s is not resolved (%s)\n' "$app" "$setting" "$status" >&2
    done <<<"$pending"
    die "Key Vault references still unresolved after ${wait_seconds}s: check the app's identity (keyVaultReferenceIdentity) may read the secret, the secret exists and the vault's private endpoint answers; then 'az functionapp restart' the app"
  fi
  say "waiting for Key Vault references: $(printf '%s' "$pending" | awk '{print $1 ":" $2 " (" $3 ")"}' | paste -sd' ' -)"
  sleep 15
done
