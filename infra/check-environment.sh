#!/usr/bin/env bash
# infra/check-environment.sh NAME: fails unless NAME is a valid tenant environment name, before anything is created:
# 3-16 characters, lowercase letters and digits, hyphens only inside (resource names, Key Vault's 24 characters and the
# storage accounts' lowercase-only names are built from it). infra/deploy.sh and azd's preprovision hook run it.
set -euo pipefail
name=${1:-}
if [[ ! "$name" =~ ^[a-z][a-z0-9-]{1,14}[a-z0-9]$ ]] || [[ "$name" == *--* ]]; then
  printf 'environment name "%s" is not valid: 3-16 characters, lowercase letters, digits and single inner hyphens, starting with a letter\n' "$name" >&2
  exit 1
fi
