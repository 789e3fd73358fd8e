// The parameters of a tenant environment read from the environment: `azd up` (its environment's values) and
// infra/deploy.sh use this file when infra/tenants/<environment>.bicepparam does not exist. Secrets come from the shell
// that deploys, never from a file; they go to Key Vault only, and a deployment without one keeps what the vault holds.
using './main.bicep'

param environmentName = readEnvironmentVariable('FENTA_ENVIRONMENT', readEnvironmentVariable('AZURE_ENV_NAME', 'acme-prod'))
param costCenter = readEnvironmentVariable('FENTA_COST_CENTER', readEnvironmentVariable('FENTA_ENVIRONMENT', 'acme-prod'))
param containerRegistryId = readEnvironmentVariable('FENTA_REGISTRY_ID', '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-fentaweb-shared/providers/Microsoft.ContainerRegistry/registries/fentaweb')
param postgresAdminGroupObjectId = readEnvironmentVariable('FENTA_DB_ADMIN_GROUP_ID', '00000000-0000-0000-0000-000000000000')
param postgresAdminGroupName = readEnvironmentVariable('FENTA_DB_ADMIN_GROUP', 'fentaweb-db-admins')
param mediaCorsOrigins = filter(split(readEnvironmentVariable('FENTA_MEDIA_CORS_ORIGINS', ''), ','), origin => !empty(origin))
param alertActionGroupId = readEnvironmentVariable('FENTA_ALERT_ACTION_GROUP_ID', '')
param recoverKeyVault = bool(readEnvironmentVariable('FENTA_RECOVER_KEY_VAULT', 'false'))
// infra/deploy.sh asks Azure whether the vault holds the signing key; unknown, assume it does (a missing key then fails
// closed at the app's start-up rather than being replaced).
param jwtSigningKeyInVault = bool(readEnvironmentVariable('FENTA_JWT_SIGNING_KEY_IN_VAULT', 'true'))
// Whether the vault holds fenta-key-ring, the key ring's certificate (deploy.sh and the azd hook ask Azure, and make one
// with infra/key-ring-certificate.sh when it does not); unknown, assume it does, so a certificate is never replaced.
param keyRingCertificateInVault = bool(readEnvironmentVariable('FENTA_KEY_RING_CERTIFICATE_IN_VAULT', 'true'))
param keyRingCertificate = readEnvironmentVariable('FENTA_KEY_RING_CERTIFICATE', '')
// The optional secrets this tenant uses, comma-separated Key Vault names (docs/configuration.md), e.g. kie-api-key,smtp-password.
param providerSecrets = filter(split(readEnvironmentVariable('FENTA_PROVIDER_SECRETS', ''), ','), name => !empty(name))
// The images: infra/deploy.sh sets FENTA_*_IMAGE; under azd, the image its last deploy pushed (azd saves it in its
// environment as SERVICE_<NAME>_IMAGE_NAME), so that a later `azd provision` keeps the running images instead of
// putting the placeholders back. The placeholders only serve a first provision, before anything was built.
param apiImage = readEnvironmentVariable('FENTA_API_IMAGE', readEnvironmentVariable('SERVICE_API_IMAGE_NAME', 'acmefenta.azurecr.io/fentaweb-api:1.0.0'))
param orchestrationsImage = readEnvironmentVariable('FENTA_ORCHESTRATIONS_IMAGE', readEnvironmentVariable('SERVICE_ORCHESTRATIONS_IMAGE_NAME', 'acmefenta.azurecr.io/fentaweb-orchestrations:1.0.0'))
param renderImage = readEnvironmentVariable('FENTA_RENDER_IMAGE', readEnvironmentVariable('SERVICE_RENDER_IMAGE_NAME', 'acmefenta.azurecr.io/fentaweb-render:1.0.0'))
param renderMaxExecutions = 4
param jwtSigningKey = readEnvironmentVariable('FENTA_JWT_SIGNING_KEY', '')
param stripeSecretKey = readEnvironmentVariable('FENTA_STRIPE_SECRET_KEY', '')
param stripeWebhookSecret = readEnvironmentVariable('FENTA_STRIPE_WEBHOOK_SECRET', '')
param kieApiKey = readEnvironmentVariable('FENTA_KIE_API_KEY', '')
param llmApiKey = readEnvironmentVariable('FENTA_LLM_API_KEY', '')
param ttsApiKey = readEnvironmentVariable('FENTA_TTS_API_KEY', '')
param asrApiKey = readEnvironmentVariable('FENTA_ASR_API_KEY', '')
param pexelsApiKey = readEnvironmentVariable('FENTA_PEXELS_API_KEY', '')
// Publishing: the platforms' app credentials (docs/deployment.md, "Publishing"); the secrets' names go in FENTA_PROVIDER_SECRETS.
param youtubeClientId = readEnvironmentVariable('FENTA_YOUTUBE_CLIENT_ID', '')
param youtubeClientSecret = readEnvironmentVariable('FENTA_YOUTUBE_CLIENT_SECRET', '')
param tiktokClientId = readEnvironmentVariable('FENTA_TIKTOK_CLIENT_ID', '')
param tiktokClientSecret = readEnvironmentVariable('FENTA_TIKTOK_CLIENT_SECRET', '')
param tiktokAudited = bool(readEnvironmentVariable('FENTA_TIKTOK_AUDITED', 'false'))
param instagramClientId = readEnvironmentVariable('FENTA_INSTAGRAM_CLIENT_ID', '')
param instagramClientSecret = readEnvironmentVariable('FENTA_INSTAGRAM_CLIENT_SECRET', '')
param smtpHost = readEnvironmentVariable('FENTA_SMTP_HOST', '')
param smtpPort = int(readEnvironmentVariable('FENTA_SMTP_PORT', '587'))
param smtpUsername = readEnvironmentVariable('FENTA_SMTP_USERNAME', '')
param smtpFrom = readEnvironmentVariable('FENTA_SMTP_FROM', '')
param smtpPassword = readEnvironmentVariable('FENTA_SMTP_PASSWORD', '')
param apiSettings = {
  FENTA_STRIPE_PRICE_STARTER: readEnvironmentVariable('FENTA_STRIPE_PRICE_STARTER', '')
  FENTA_STRIPE_PRICE_PRO: readEnvironmentVariable('FENTA_STRIPE_PRICE_PRO', '')
  FENTA_STRIPE_OVERAGE_PRICES_STARTER: readEnvironmentVariable('FENTA_STRIPE_OVERAGE_PRICES_STARTER', '')
  FENTA_STRIPE_OVERAGE_PRICES_PRO: readEnvironmentVariable('FENTA_STRIPE_OVERAGE_PRICES_PRO', '')
  // Cost estimates count LLM tokens and OpenAI speech only when the workers call them; enrichment writes with the LLM.
  FENTA_LLM_BASE_URL: readEnvironmentVariable('FENTA_LLM_BASE_URL', '')
  FENTA_TTS_BASE_URL: readEnvironmentVariable('FENTA_TTS_BASE_URL', '')
}
param orchestrationsSettings = {
  FENTA_LLM_BASE_URL: readEnvironmentVariable('FENTA_LLM_BASE_URL', '')
  FENTA_TTS_BASE_URL: readEnvironmentVariable('FENTA_TTS_BASE_URL', '')
  FENTA_ASR_BASE_URL: readEnvironmentVariable('FENTA_ASR_BASE_URL', '')
  // The meters paid overage is reported to (empty: the fenta_* defaults).
  FENTA_STRIPE_METER_LLM_TOKENS: readEnvironmentVariable('FENTA_STRIPE_METER_LLM_TOKENS', '')
  FENTA_STRIPE_METER_KAI_CREDITS: readEnvironmentVariable('FENTA_STRIPE_METER_KAI_CREDITS', '')
  FENTA_STRIPE_METER_RENDER_SECONDS: readEnvironmentVariable('FENTA_STRIPE_METER_RENDER_SECONDS', '')
}
