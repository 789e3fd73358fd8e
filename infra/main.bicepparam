// A tenant environment's parameters. Secrets come from the shell that deploys, never from this file:
//   export FENTA_PG_ADMIN_PASSWORD=... FENTA_JWT_SIGNING_KEY=...
//   az deployment group create -g rg-acme-prod -f infra/main.bicep -p infra/main.bicepparam
using './main.bicep'

param environmentName = 'acme-prod'
param containerRegistryName = 'acmefenta'
param apiImage = 'acmefenta.azurecr.io/fentaweb-api:1.0.0'
param workerImage = 'acmefenta.azurecr.io/fentaweb-worker:1.0.0'
param renderImage = 'acmefenta.azurecr.io/fentaweb-render:1.0.0'
param postgresAdminPassword = readEnvironmentVariable('FENTA_PG_ADMIN_PASSWORD')
param jwtSigningKey = readEnvironmentVariable('FENTA_JWT_SIGNING_KEY')
param renderMaxReplicas = 4
