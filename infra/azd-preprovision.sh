#!/bin/sh
# azd's preprovision hook: the checks infra/deploy.sh makes before it deploys, with their answers put in the azd
# environment that infra/main.bicepparam reads. The one secret written here is the key ring's certificate, made only when
# the vault has none (infra/key-ring-certificate.sh); the postprovision hook erases it from the azd environment once the
# template has stored it in Key Vault.
set -eu
name=${FENTA_ENVIRONMENT:-${AZURE_ENV_NAME:-}}
infra/check-environment.sh "$name"
compact=$(printf '%s' "$name" | tr -d '-')
rg=${AZURE_RESOURCE_GROUP:-rg-$name}
deleted=$(az keyvault list-deleted --resource-type vault -o tsv \
  --query "[?contains(properties.vaultId, '/resourceGroups/$rg/') && starts_with(name, 'kv-$compact-')].name | [0]" 2>/dev/null || true)
vault=$(az keyvault list -g "$rg" --query "[?starts_with(name, 'kv-$compact-')].id | [0]" -o tsv 2>/dev/null || true)
in_vault=false
if [ -n "$deleted" ] || { [ -n "$vault" ] && az resource show --ids "$vault/secrets/jwt-signing-key" -o none 2>/dev/null; }; then in_vault=true; fi
azd env set FENTA_ENVIRONMENT "$name"
azd env set FENTA_RECOVER_KEY_VAULT "$([ -n "$deleted" ] && echo true || echo false)"
azd env set FENTA_JWT_SIGNING_KEY_IN_VAULT "$in_vault"
if [ -n "$deleted" ] || { [ -n "$vault" ] && az resource show --ids "$vault/secrets/fenta-key-ring" -o none 2>/dev/null; }; then
  azd env set FENTA_KEY_RING_CERTIFICATE_IN_VAULT true
else
  azd env set FENTA_KEY_RING_CERTIFICATE_IN_VAULT false
  azd env set FENTA_KEY_RING_CERTIFICATE "$(infra/key-ring-certificate.sh "$name")"
fi
