// One file per tenant: infra/tenants/<environment name>.bicepparam, in git (nothing secret in it). infra/deploy.sh uses it
// when FENTA_ENVIRONMENT names it; secrets still come from the deploying shell, and only when they change.
using '../main.bicep'

param environmentName = 'example'
param costCenter = 'example-co'
param tags = { owner: 'platform@example.com' }
param containerRegistryId = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-fentaweb-shared/providers/Microsoft.ContainerRegistry/registries/fentaweb'
param apiImage = readEnvironmentVariable('FENTA_API_IMAGE', 'fentaweb.azurecr.io/fentaweb-api:1.0.0')
param orchestrationsImage = readEnvironmentVariable('FENTA_ORCHESTRATIONS_IMAGE', 'fentaweb.azurecr.io/fentaweb-orchestrations:1.0.0')
param renderImage = readEnvironmentVariable('FENTA_RENDER_IMAGE', 'fentaweb.azurecr.io/fentaweb-render:1.0.0')
param postgresAdminGroupObjectId = '00000000-0000-0000-0000-000000000000'
param postgresAdminGroupName = 'fentaweb-example-db-admins'
param mediaCorsOrigins = ['https://app.example.com']
param alertActionGroupId = ''
param recoverKeyVault = bool(readEnvironmentVariable('FENTA_RECOVER_KEY_VAULT', 'false'))
param jwtSigningKeyInVault = bool(readEnvironmentVariable('FENTA_JWT_SIGNING_KEY_IN_VAULT', 'true'))
param keyRingCertificateInVault = bool(readEnvironmentVariable('FENTA_KEY_RING_CERTIFICATE_IN_VAULT', 'true'))
param keyRingCertificate = readEnvironmentVariable('FENTA_KEY_RING_CERTIFICATE', '')
param providerSecrets = ['kie-api-key', 'pexels-api-key', 'youtube-client-secret', 'tiktok-client-secret']
// Publishing to YouTube and TikTok (this tenant's apps at Google and TikTok; ids are not secret).
param youtubeClientId = '123456789012-example.apps.googleusercontent.com'
param tiktokClientId = 'awexampleclientkey'
param tiktokAudited = false
param youtubeClientSecret = readEnvironmentVariable('FENTA_YOUTUBE_CLIENT_SECRET', '')
param tiktokClientSecret = readEnvironmentVariable('FENTA_TIKTOK_CLIENT_SECRET', '')
param jwtSigningKey = readEnvironmentVariable('FENTA_JWT_SIGNING_KEY', '')
param kieApiKey = readEnvironmentVariable('FENTA_KIE_API_KEY', '')
param pexelsApiKey = readEnvironmentVariable('FENTA_PEXELS_API_KEY', '')
