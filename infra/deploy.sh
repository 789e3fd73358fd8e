#!/usr/bin/env bash
# infra/deploy.sh: builds the three images in Azure Container Registry (the Dockerfiles publish both Function apps and
# the renderer inside the build), then deploys infra/main.bicep into one resource group. Safe to run again: every step
# is idempotent, and a new image tag rolls the apps and the render job forward.
#
#   az login
#   export FENTA_ENVIRONMENT=acme-prod FENTA_RESOURCE_GROUP=rg-acme-prod FENTA_LOCATION=westeurope FENTA_REGISTRY=acmefenta
#   export FENTA_STRIPE_SECRET_KEY=... FENTA_KIE_API_KEY=...   # optional provider secrets (docs/configuration.md)
#   infra/deploy.sh
#
# Needs: the Azure CLI (2.60+, with Bicep), and Owner (or Contributor + User Access Administrator) on the resource group,
# since the template assigns roles to the apps' identities. Nothing here needs Docker or a network path into the VNet:
# images build in the registry, and the apps migrate the private database themselves at start-up.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31mdeploy:\033[0m %s\n' "$*" >&2; exit 1; }
need() { [ -n "${!1:-}" ] || die "set $1 (see the header of infra/deploy.sh)"; }

command -v az >/dev/null || die "the Azure CLI (az) is not installed: https://learn.microsoft.com/cli/azure/install-azure-cli"
need FENTA_ENVIRONMENT
need FENTA_RESOURCE_GROUP
need FENTA_LOCATION
need FENTA_REGISTRY
# main.bicepparam reads these from the environment.
export FENTA_ENVIRONMENT FENTA_REGISTRY FENTA_STRIPE_SECRET_KEY FENTA_STRIPE_WEBHOOK_SECRET FENTA_STRIPE_PRICE_STARTER FENTA_STRIPE_PRICE_PRO \
  FENTA_STRIPE_OVERAGE_PRICES_STARTER FENTA_STRIPE_OVERAGE_PRICES_PRO FENTA_STRIPE_METER_LLM_TOKENS FENTA_STRIPE_METER_KAI_CREDITS FENTA_STRIPE_METER_RENDER_SECONDS \
  FENTA_KIE_API_KEY FENTA_LLM_API_KEY FENTA_LLM_BASE_URL FENTA_TTS_API_KEY FENTA_TTS_BASE_URL FENTA_ASR_API_KEY FENTA_ASR_BASE_URL FENTA_PEXELS_API_KEY \
  FENTA_SMTP_HOST FENTA_SMTP_PORT FENTA_SMTP_USERNAME FENTA_SMTP_PASSWORD FENTA_SMTP_FROM
az account show >/dev/null 2>&1 || die "not signed in: run 'az login' (and 'az account set -s <subscription>')"

# The access-token signing key must stay the same from one deployment to the next (tokens in flight stay valid), and
# Key Vault is private, so this script cannot read it back: it is kept next to the environment, outside git.
secrets_dir=".local/azure/$FENTA_ENVIRONMENT"
mkdir -p "$secrets_dir"
chmod 700 "$secrets_dir"
if [ -z "${FENTA_JWT_SIGNING_KEY:-}" ]; then
  if [ ! -s "$secrets_dir/jwt.key" ]; then
    say "generating the access-token signing key into $secrets_dir/jwt.key (keep it; it is also in Key Vault)"
    (umask 077; head -c 48 /dev/urandom | base64 | tr -d '\n=' > "$secrets_dir/jwt.key")
  fi
  FENTA_JWT_SIGNING_KEY=$(cat "$secrets_dir/jwt.key")
fi
export FENTA_JWT_SIGNING_KEY

tag=${FENTA_IMAGE_TAG:-$(git rev-parse --short=12 HEAD)}
[ -z "$(git status --porcelain)" ] || say "the working tree has uncommitted changes; the images are built from it as it is, tagged $tag"

say "resource group $FENTA_RESOURCE_GROUP in $FENTA_LOCATION"
az group create -n "$FENTA_RESOURCE_GROUP" -l "$FENTA_LOCATION" -o none

if ! az acr show -n "$FENTA_REGISTRY" -g "$FENTA_RESOURCE_GROUP" -o none 2>/dev/null; then
  say "container registry $FENTA_REGISTRY (admin user off: the apps pull with their identities)"
  az acr create -n "$FENTA_REGISTRY" -g "$FENTA_RESOURCE_GROUP" -l "$FENTA_LOCATION" --sku Standard --admin-enabled false -o none
fi
login_server=$(az acr show -n "$FENTA_REGISTRY" --query loginServer -o tsv)

for image in api:src/Functions.Api orchestrations:src/Functions.Orchestrations render:src/Render.Container; do
  name=${image%%:*}
  say "building fentaweb-$name:$tag in $FENTA_REGISTRY (dotnet publish inside the build)"
  az acr build -r "$FENTA_REGISTRY" -t "fentaweb-$name:$tag" -f "${image#*:}/Dockerfile" --no-logs . -o none
done

export FENTA_API_IMAGE="$login_server/fentaweb-api:$tag"
export FENTA_ORCHESTRATIONS_IMAGE="$login_server/fentaweb-orchestrations:$tag"
export FENTA_RENDER_IMAGE="$login_server/fentaweb-render:$tag"

say "deploying infra/main.bicep (the first run takes 20-30 minutes: PostgreSQL, the VNet and private endpoints)"
az deployment group create -g "$FENTA_RESOURCE_GROUP" -n "fentaweb-$tag" -f infra/main.bicep -p infra/main.bicepparam -o none
api_url=$(az deployment group show -g "$FENTA_RESOURCE_GROUP" -n "fentaweb-$tag" --query properties.outputs.apiUrl.value -o tsv)

say "waiting for $api_url/readyz (the API migrates the database on start-up)"
for _ in $(seq 1 60); do
  if curl -fsS "$api_url/readyz" >/dev/null 2>&1; then
    say "ready: $api_url (OpenAPI: $api_url/openapi/v1.json)"
    exit 0
  fi
  sleep 10
done
die "$api_url/readyz did not answer 200 within 10 minutes; see the API's logs in Application Insights"
