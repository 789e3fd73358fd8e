// A tenant environment's parameters. Secrets come from the shell that deploys (infra/deploy.sh reads them from the
// environment), never from this file; they go to Key Vault only.
using './main.bicep'

param environmentName = readEnvironmentVariable('FENTA_ENVIRONMENT', 'acme-prod')
param containerRegistryName = readEnvironmentVariable('FENTA_REGISTRY', 'acmefenta')
param apiImage = readEnvironmentVariable('FENTA_API_IMAGE', 'acmefenta.azurecr.io/fentaweb-api:1.0.0')
param orchestrationsImage = readEnvironmentVariable('FENTA_ORCHESTRATIONS_IMAGE', 'acmefenta.azurecr.io/fentaweb-orchestrations:1.0.0')
param renderImage = readEnvironmentVariable('FENTA_RENDER_IMAGE', 'acmefenta.azurecr.io/fentaweb-render:1.0.0')
param renderMaxExecutions = 4
param jwtSigningKey = readEnvironmentVariable('FENTA_JWT_SIGNING_KEY')
param stripeSecretKey = readEnvironmentVariable('FENTA_STRIPE_SECRET_KEY', '')
param stripeWebhookSecret = readEnvironmentVariable('FENTA_STRIPE_WEBHOOK_SECRET', '')
param kieApiKey = readEnvironmentVariable('FENTA_KIE_API_KEY', '')
param llmApiKey = readEnvironmentVariable('FENTA_LLM_API_KEY', '')
param ttsApiKey = readEnvironmentVariable('FENTA_TTS_API_KEY', '')
param asrApiKey = readEnvironmentVariable('FENTA_ASR_API_KEY', '')
param pexelsApiKey = readEnvironmentVariable('FENTA_PEXELS_API_KEY', '')
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
  // Cost estimates count LLM tokens and OpenAI speech only when the workers call them.
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
