#!/usr/bin/env bash
# infra/deploy.sh: builds the three images in Azure Container Registry (the Dockerfiles publish both Function apps and
# the renderer inside the build), then deploys infra/main.bicep into one resource group. Safe to run again: every step
# is idempotent, and a new image tag rolls the apps and the render job forward.
#
#   az login
#   export FENTA_ENVIRONMENT=acme-prod FENTA_RESOURCE_GROUP=rg-acme-prod FENTA_LOCATION=westeurope
#   export FENTA_REGISTRY=fentaweb FENTA_REGISTRY_RESOURCE_GROUP=rg-fentaweb-shared   # one registry for every tenant
#   export FENTA_STRIPE_SECRET_KEY=... FENTA_KIE_API_KEY=...   # optional provider secrets, only when they change
#   infra/deploy.sh
#
# Parameters: infra/tenants/$FENTA_ENVIRONMENT.bicepparam when it exists, else infra/main.bicepparam (from the
# environment). A secret left unset keeps the value Key Vault holds; the access-token signing key is generated into Key
# Vault on the first deployment and never leaves it.
#
# Needs: the Azure CLI (2.60+, with Bicep), openssl (the key ring's certificate, first deployment only), and Owner (or Contributor + User Access Administrator) on the resource group,
# since the template assigns roles to the apps' identities. Nothing here needs Docker or a network path into the VNet:
# images build in the registry, and the migrate job (inside the VNet, infra/migrate.sh) migrates the private database.
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
FENTA_REGISTRY_RESOURCE_GROUP=${FENTA_REGISTRY_RESOURCE_GROUP:-rg-fentaweb-shared}
infra/check-environment.sh "$FENTA_ENVIRONMENT" || die "FENTA_ENVIRONMENT: see infra/check-environment.sh"
if [ -n "${FENTA_JWT_SIGNING_KEY:-}" ] && [ ${#FENTA_JWT_SIGNING_KEY} -lt 32 ]; then die "FENTA_JWT_SIGNING_KEY must have at least 32 characters"; fi
params=infra/tenants/$FENTA_ENVIRONMENT.bicepparam
if [ ! -f "$params" ]; then
  params=infra/main.bicepparam
  # infra/main.bicepparam reads these from the environment (docs/deployment.md).
  need FENTA_DB_ADMIN_GROUP_ID
  need FENTA_DB_ADMIN_GROUP
  export FENTA_DB_ADMIN_GROUP_ID FENTA_DB_ADMIN_GROUP FENTA_MEDIA_CORS_ORIGINS FENTA_PROVIDER_SECRETS FENTA_ALERT_ACTION_GROUP_ID FENTA_COST_CENTER
fi
# main.bicepparam reads these from the environment.
export FENTA_ENVIRONMENT FENTA_JWT_SIGNING_KEY FENTA_STRIPE_SECRET_KEY FENTA_STRIPE_WEBHOOK_SECRET FENTA_STRIPE_PRICE_STARTER FENTA_STRIPE_PRICE_PRO \
  FENTA_STRIPE_OVERAGE_PRICES_STARTER FENTA_STRIPE_OVERAGE_PRICES_PRO FENTA_STRIPE_METER_LLM_TOKENS FENTA_STRIPE_METER_KAI_CREDITS FENTA_STRIPE_METER_RENDER_SECONDS \
  FENTA_KIE_API_KEY FENTA_LLM_API_KEY FENTA_LLM_BASE_URL FENTA_TTS_API_KEY FENTA_TTS_BASE_URL FENTA_ASR_API_KEY FENTA_ASR_BASE_URL FENTA_PEXELS_API_KEY \
  FENTA_SMTP_HOST FENTA_SMTP_PORT FENTA_SMTP_USERNAME FENTA_SMTP_PASSWORD FENTA_SMTP_FROM \
  FENTA_YOUTUBE_CLIENT_ID FENTA_YOUTUBE_CLIENT_SECRET FENTA_TIKTOK_CLIENT_ID FENTA_TIKTOK_CLIENT_SECRET FENTA_TIKTOK_AUDITED \
  FENTA_INSTAGRAM_CLIENT_ID FENTA_INSTAGRAM_CLIENT_SECRET
az account show >/dev/null 2>&1 || die "not signed in: run 'az login' (and 'az account set -s <subscription>')"

# The Bicep version az builds with: the one the tests use (Directory.Packages.props), so what passed lint is what deploys.
bicep_version=$(sed -n 's:.*<BicepVersion>\(.*\)</BicepVersion>.*:\1:p' Directory.Packages.props)
if [ "$(az bicep version 2>/dev/null | grep -o '[0-9]*\.[0-9]*\.[0-9]*' | head -1)" != "$bicep_version" ]; then
  say "installing Bicep $bicep_version for az"
  az bicep install --version "v$bicep_version" >/dev/null
fi

tag=${FENTA_IMAGE_TAG:-$(git rev-parse --short=12 HEAD)}
[ -z "$(git status --porcelain)" ] || say "the working tree has uncommitted changes; the images are built from it as it is, tagged $tag"


# Key Vault keeps a deleted vault (and its name) for 30 days: recover this environment's instead of failing on the name.
deleted_vault=$(az keyvault list-deleted --resource-type vault -o tsv \
  --query "[?contains(properties.vaultId, '/resourceGroups/$FENTA_RESOURCE_GROUP/') && starts_with(name, 'kv-${FENTA_ENVIRONMENT//-/}-')].name | [0]" 2>/dev/null || true)
export FENTA_RECOVER_KEY_VAULT=false
if [ -n "$deleted_vault" ]; then
  say "recovering the soft-deleted Key Vault $deleted_vault (with its secrets)"
  export FENTA_RECOVER_KEY_VAULT=true
fi

# Whether the vault already holds the signing key, asked of the control plane (the vault's data plane is private and
# no value is read): if not, the deployment stores a key it generates, once.
vault=$(az keyvault list -g "$FENTA_RESOURCE_GROUP" --query "[?starts_with(name, 'kv-${FENTA_ENVIRONMENT//-/}-')].id | [0]" -o tsv 2>/dev/null || true)
export FENTA_JWT_SIGNING_KEY_IN_VAULT=false
if [ -n "$deleted_vault" ] || { [ -n "$vault" ] && az resource show --ids "$vault/secrets/jwt-signing-key" -o none 2>/dev/null; }; then
  export FENTA_JWT_SIGNING_KEY_IN_VAULT=true
fi

# The certificate that encrypts the platforms' tokens' key ring, asked of the control plane as above: made once, before the
# template, which stores it as the secret fenta-key-ring in the same deployment that grants the apps read access to it and
# references it from their settings, so the apps never start without it. Never replaced: keys it encrypted need it.
export FENTA_KEY_RING_CERTIFICATE_IN_VAULT=true FENTA_KEY_RING_CERTIFICATE=
if [ -z "$deleted_vault" ] && ! { [ -n "$vault" ] && az resource show --ids "$vault/secrets/fenta-key-ring" -o none 2>/dev/null; }; then
  say "making the key ring's certificate (stored in Key Vault as fenta-key-ring by the template; nothing kept on disk)"
  FENTA_KEY_RING_CERTIFICATE=$(infra/key-ring-certificate.sh "$FENTA_ENVIRONMENT")
  FENTA_KEY_RING_CERTIFICATE_IN_VAULT=false
fi

say "resource group $FENTA_RESOURCE_GROUP in $FENTA_LOCATION"
az group create -n "$FENTA_RESOURCE_GROUP" -l "$FENTA_LOCATION" --tags "tenant=$FENTA_ENVIRONMENT" "cost-center=${FENTA_COST_CENTER:-$FENTA_ENVIRONMENT}" -o none

# One registry for every tenant, in a resource group of its own.
if ! az acr show -n "$FENTA_REGISTRY" -g "$FENTA_REGISTRY_RESOURCE_GROUP" -o none 2>/dev/null; then
  say "shared container registry $FENTA_REGISTRY in $FENTA_REGISTRY_RESOURCE_GROUP (admin user off: the apps pull with their identities)"
  az group create -n "$FENTA_REGISTRY_RESOURCE_GROUP" -l "$FENTA_LOCATION" -o none
  az acr create -n "$FENTA_REGISTRY" -g "$FENTA_REGISTRY_RESOURCE_GROUP" -l "$FENTA_LOCATION" --sku Standard --admin-enabled false -o none
fi
login_server=$(az acr show -n "$FENTA_REGISTRY" -g "$FENTA_REGISTRY_RESOURCE_GROUP" --query loginServer -o tsv)
export FENTA_REGISTRY_ID
FENTA_REGISTRY_ID=$(az acr show -n "$FENTA_REGISTRY" -g "$FENTA_REGISTRY_RESOURCE_GROUP" --query id -o tsv)

for image in api:src/Functions.Api orchestrations:src/Functions.Orchestrations render:src/Render.Container; do
  name=${image%%:*}
  say "building fentaweb-$name:$tag in $FENTA_REGISTRY (dotnet publish inside the build)"
  az acr build -r "$FENTA_REGISTRY" -t "fentaweb-$name:$tag" -f "${image#*:}/Dockerfile" --no-logs . -o none
done

export FENTA_API_IMAGE="$login_server/fentaweb-api:$tag"
export FENTA_ORCHESTRATIONS_IMAGE="$login_server/fentaweb-orchestrations:$tag"
export FENTA_RENDER_IMAGE="$login_server/fentaweb-render:$tag"

say "deploying infra/main.bicep (the first run takes 20-30 minutes: PostgreSQL, the VNet and private endpoints)"
az deployment group create -g "$FENTA_RESOURCE_GROUP" -n "fentaweb-$tag" -f infra/main.bicep -p "$params" -o none
api_url=$(az deployment group show -g "$FENTA_RESOURCE_GROUP" -n "fentaweb-$tag" --query properties.outputs.apiUrl.value -o tsv)

# The new build's migrations, by the migrate job's identity (the apps cannot create or alter tables).
infra/migrate.sh "$FENTA_RESOURCE_GROUP" "$(az deployment group show -g "$FENTA_RESOURCE_GROUP" -n "fentaweb-$tag" --query properties.outputs.migrateJob.value -o tsv)"

say "waiting for the apps' Key Vault references to resolve"
# shellcheck disable=SC2046 # the two app names, one word each
infra/check-references.sh "$FENTA_RESOURCE_GROUP" $(az deployment group show -g "$FENTA_RESOURCE_GROUP" -n "fentaweb-$tag" \
  --query '[properties.outputs.apiFunctionApp.value, properties.outputs.orchestrationsFunctionApp.value]' -o tsv)

say "waiting for $api_url/readyz"
for _ in $(seq 1 60); do
  if curl -fsS "$api_url/readyz" >/dev/null 2>&1; then
    say "ready: $api_url (OpenAPI: $api_url/openapi/v1.json)"
    exit 0
  fi
  sleep 10
done
die "$api_url/readyz did not answer 200 within 10 minutes; see the API's logs in Application Insights"
