// One FentaWeb tenant environment in one resource group, in the shape of the design card:
//   - two Function apps (the v1 API, the orchestrations) on one Elastic Premium plan, each a custom container with ffmpeg,
//     ffprobe and espeak-ng, each with its own user-assigned identity, VNet-integrated;
//   - the Durable task hub, the render queues and their request blobs on a private runtime storage account, reached by
//     identity only (no account key exists in any setting; shared-key access is off);
//   - the renderer as an event-driven Container Apps job (KEDA azure-queue scaler, identity auth) in the same VNet;
//   - Azure Database for PostgreSQL flexible server inside the VNet, Microsoft Entra sign-in only;
//   - a public media account for asset bytes (users and KIE.ai reach it through user delegation SAS links; no shared key);
//   - Key Vault (private) for every secret, read by the Function apps through Key Vault references;
//   - Application Insights with Entra authentication, and a Log Analytics workspace.
//
//   infra/deploy.sh does the whole deployment; see docs/deployment.md.
targetScope = 'resourceGroup'

@description('Short name of the tenant environment (e.g. acme-prod): 3-16 characters, lowercase letters, digits and inner hyphens (infra/check-environment.sh checks the pattern before anything is created); every resource is named from it.')
@minLength(3)
@maxLength(16)
param environmentName string

param location string = resourceGroup().location

@description('Resource id of the container registry shared by every tenant, in its own resource group (/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.ContainerRegistry/registries/<name>); each identity pulls with AcrPull.')
param containerRegistryId string

@description('Tags on every resource besides tenant (the environment name) and cost-center.')
param tags object = {}
@description('The cost center this tenant environment is billed to (the cost-center tag).')
param costCenter string = environmentName

@description('Images built from src/Functions.Api, src/Functions.Orchestrations and src/Render.Container (their Dockerfiles).')
param apiImage string
param orchestrationsImage string
param renderImage string

@description('Elastic Premium plan size of the two Function apps (EP1, EP2, EP3) and its instance bounds.')
@allowed(['EP1', 'EP2', 'EP3'])
param functionsPlanSku string = 'EP1'
@minValue(1)
param functionsMinInstances int = 1
@minValue(1)
param functionsMaxInstances int = 10

@description('Server size; its connection limit (postgresConnectionLimits) must hold the pools of every app at maximum scale.')
param postgresSku string = 'Standard_B2s'
@allowed(['Burstable', 'GeneralPurpose', 'MemoryOptimized'])
param postgresTier string = 'Burstable'
param postgresStorageGb int = 32

@description('Object id and display name of the Microsoft Entra group whose members administer the database (break-glass and operators).')
param postgresAdminGroupObjectId string
param postgresAdminGroupName string

@description('Npgsql Maximum Pool Size per instance of each app; with the maximum instance counts they must fit the server\'s connection limit (docs/deployment.md).')
@minValue(1)
param apiDbPoolSize int = 5
@minValue(1)
param orchestrationsDbPoolSize int = 5
@minValue(1)
param renderDbPoolSize int = 2

@description('At most this many renders at once (one Container Apps job execution each).')
@minValue(1)
param renderMaxExecutions int = 10

@description('Origins of this tenant allowed to PUT uploads to and GET media from the media account (browser uploads with the signed link), e.g. ["https://app.acme.example"]; none by default, so no browser origin may.')
param mediaCorsOrigins array = []

@description('Resource id of the action group told of alerts (failed jobs, poisoned renders, database connections, 5xx rate); empty: the alerts fire in the portal only.')
param alertActionGroupId string = ''

@description('Recover the soft-deleted Key Vault of the same name instead of creating one (infra/deploy.sh sets it when it finds one).')
param recoverKeyVault bool = false

param vnetAddressPrefix string = '10.40.0.0/16'

@description('A new HMAC key of access tokens (at least 32 characters), to rotate it; empty keeps the one in Key Vault, its source of truth.')
@secure()
param jwtSigningKey string = ''

@description('Whether Key Vault already holds jwt-signing-key (infra/deploy.sh asks Azure); false: the generated key below is stored, once.')
param jwtSigningKeyInVault bool

@description('Generated at deployment time; stored only when the vault has no key yet and none is given.')
@secure()
param generatedJwtSigningKey string = '${newGuid()}${newGuid()}'

@description('Names of the optional provider secrets this tenant uses (e.g. ["kie-api-key", "smtp-password"]). Their app settings reference Key Vault on every deployment, with or without a value this time; a value given writes (or overwrites) the secret.')
param providerSecrets array = []

@description('Optional provider secrets; empty keeps what Key Vault holds. Without them (and not in providerSecrets) the offline defaults run (local generator, template writer, espeak-ng, local stock, free plan).')
@secure()
param stripeSecretKey string = ''
@secure()
param stripeWebhookSecret string = ''
@secure()
param kieApiKey string = ''
@secure()
param llmApiKey string = ''
@secure()
param ttsApiKey string = ''
@secure()
param asrApiKey string = ''
@secure()
param pexelsApiKey string = ''

@description('The SMTP server of verification, password-reset and invitation mails; without a host the API sends no mail (and says so in its log).')
param smtpHost string = ''
param smtpPort int = 587
@allowed(['starttls', 'tls'])
param smtpTls string = 'starttls'
param smtpUsername string = ''
@description('The sender, e.g. "FentaWeb <no-reply@acme.example>".')
param smtpFrom string = ''
@secure()
param smtpPassword string = ''

@description('Publishing (docs/deployment.md, "Publishing"): each platform app\'s client id (plain settings on both Function apps; empty: no setting). A platform without its id, or without its secret in providerSecrets, answers 409 naming the missing setting.')
param youtubeClientId string = ''
param tiktokClientId string = ''
param instagramClientId string = ''
@description('Whether TikTok audited the app (FENTA_TIKTOK_AUDITED): until then it may only post SELF_ONLY.')
param tiktokAudited bool = false
@description('The platforms\' client secrets; empty keeps what Key Vault holds (their names go in providerSecrets: youtube-client-secret, tiktok-client-secret, instagram-client-secret).')
@secure()
param youtubeClientSecret string = ''
@secure()
param tiktokClientSecret string = ''
@secure()
param instagramClientSecret string = ''

@description('Whether Key Vault already holds fenta-key-ring, the certificate that encrypts the Data Protection key ring (infra/deploy.sh asks Azure). Once there it is never replaced: the tokens at rest depend on it.')
param keyRingCertificateInVault bool

@description('A base64 PKCS#12 certificate with its private key (no password) for the key ring, made by infra/key-ring-certificate.sh when the vault has none; stored only then.')
@secure()
param keyRingCertificate string = ''

@description('Plain provider settings (not secrets): base URLs and Stripe price ids, as FENTA_* names (docs/configuration.md).')
param apiSettings object = {}
param orchestrationsSettings object = {}

var suffix = uniqueString(resourceGroup().id, environmentName)
// On every resource: which tenant it serves and who pays for it (cost analysis groups by these).
var commonTags = union({ tenant: environmentName, 'cost-center': costCenter, 'azd-env-name': environmentName }, tags)
var compact = replace(environmentName, '-', '')
var names = {
  logs: 'log-${environmentName}'
  insights: 'appi-${environmentName}'
  vnet: 'vnet-${environmentName}'
  runtimeStorage: take('strt${compact}${suffix}', 24)
  mediaStorage: take('stmd${compact}${suffix}', 24)
  vault: take('kv-${compact}-${suffix}', 24)
  postgres: 'psql-${environmentName}-${suffix}'
  plan: 'plan-${environmentName}'
  api: 'func-${environmentName}-api-${suffix}'
  orchestrations: 'func-${environmentName}-orch-${suffix}'
  environment: 'cae-${environmentName}'
  render: 'job-${environmentName}-render'
  migrate: 'job-${environmentName}-migrate'
}
var databaseName = 'fenta'
// The orchestrations' host.json names this hub; the API's host.json and its [DurableClient] name it through FENTA_TASK_HUB.
var taskHubName = 'fentaweb'
var renderRequests = 'render-requests'
var renderResults = 'render-results'
// The Data Protection key ring of the platforms' tokens (src/Runs/Publishing/TokenProtection.cs): blobs in the runtime
// account, and the certificate that encrypts it, a Key Vault secret of that name.
var keyRing = 'fenta-key-ring'
var storageSuffix = environment().suffixes.storage

// Built-in role definitions, each granted below only where an identity needs it.
var roles = {
  blobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  blobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  queueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  tableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

// ---------------------------------------------------------------- monitoring

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: names.logs
  location: location
  tags: commonTags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

// Entra authentication only: the apps publish telemetry with their identities (Monitoring Metrics Publisher).
resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: names.insights
  location: location
  tags: commonTags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
    DisableLocalAuth: true
  }
}

// ---------------------------------------------------------------- identities

// One identity per app, so each gets only its own grants: identities[api], identities[orchestrations], identities[render],
// and identities[migrate], the migrate job's: the database's administrator, which owns the schema.
var apps = ['api', 'orch', 'render', 'migrate']
var api = 0
var orchestrations = 1
var render = 2
var migrate = 3

resource identities 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = [for app in apps: {
  name: 'id-${environmentName}-${app}'
  location: location
  tags: commonTags
}]

// ---------------------------------------------------------------- network

// One network security group per subnet: Azure's default rules (VNet and load balancer in, nothing from the internet;
// out to the VNet and the internet), so every subnet has one to tighten and its flows can be logged.
var subnetNames = ['functions', 'jobs', 'endpoints', 'postgres']

resource subnetNsgs 'Microsoft.Network/networkSecurityGroups@2024-05-01' = [for subnet in subnetNames: {
  name: 'nsg-${environmentName}-${subnet}'
  location: location
  tags: commonTags
  properties: { securityRules: [] }
}]

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: names.vnet
  location: location
  tags: commonTags
  properties: {
    addressSpace: { addressPrefixes: [vnetAddressPrefix] }
    subnets: [
      {
        // Outbound VNet integration of the two Function apps.
        name: 'functions'
        properties: {
          networkSecurityGroup: { id: subnetNsgs[0].id }
          addressPrefix: cidrSubnet(vnetAddressPrefix, 24, 1)
          delegations: [{ name: 'web', properties: { serviceName: 'Microsoft.Web/serverFarms' } }]
        }
      }
      {
        // The Container Apps environment of the render job (workload profiles need /27 or larger, delegated).
        name: 'jobs'
        properties: {
          networkSecurityGroup: { id: subnetNsgs[1].id }
          addressPrefix: cidrSubnet(vnetAddressPrefix, 23, 1)
          delegations: [{ name: 'apps', properties: { serviceName: 'Microsoft.App/environments' } }]
        }
      }
      {
        name: 'endpoints'
        properties: {
          networkSecurityGroup: { id: subnetNsgs[2].id }
          addressPrefix: cidrSubnet(vnetAddressPrefix, 24, 4)
        }
      }
      {
        name: 'postgres'
        properties: {
          networkSecurityGroup: { id: subnetNsgs[3].id }
          addressPrefix: cidrSubnet(vnetAddressPrefix, 24, 5)
          delegations: [{ name: 'postgres', properties: { serviceName: 'Microsoft.DBforPostgreSQL/flexibleServers' } }]
        }
      }
    ]
  }
}

var subnets = {
  functions: resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, 'functions')
  jobs: resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, 'jobs')
  endpoints: resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, 'endpoints')
  postgres: resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, 'postgres')
}

// Private DNS zones resolve the private endpoints (and the VNet-integrated database) inside the VNet.
var privateZones = [
  'privatelink.blob.${storageSuffix}'
  'privatelink.queue.${storageSuffix}'
  'privatelink.table.${storageSuffix}'
  'privatelink.vaultcore.azure.net'
  '${names.postgres}.private.postgres.database.azure.com'
]

resource zones 'Microsoft.Network/privateDnsZones@2024-06-01' = [for zone in privateZones: {
  name: zone
  location: 'global'
  tags: commonTags
}]

resource zoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [for (zone, i) in privateZones: {
  parent: zones[i]
  name: 'vnet'
  location: 'global'
  tags: commonTags
  properties: {
    registrationEnabled: false
    virtualNetwork: { id: vnet.id }
  }
}]

// ---------------------------------------------------------------- storage

// The runtime account: the task hub (AzureWebJobsStorage of both Function apps), the render queues and request blobs.
// Private: reached only through its private endpoints, with identities (shared-key access is off).
resource runtimeStorage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: names.runtimeStorage
  location: location
  tags: commonTags
  sku: { name: 'Standard_LRS' }
  kind: 'StorageV2'
  properties: {
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    publicNetworkAccess: 'Disabled'
    networkAcls: { defaultAction: 'Deny', bypass: 'None' }
  }
}

resource runtimeBlobs 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: runtimeStorage
  name: 'default'
}

resource renderRequestBlobs 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: runtimeBlobs
  name: renderRequests
}

// The key ring: outside the database whose rows it protects; the apps add one blob per key.
resource keyRingBlobs 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: runtimeBlobs
  name: keyRing
}

resource runtimeQueues 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: runtimeStorage
  name: 'default'
}

resource renderRequestQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: runtimeQueues
  name: renderRequests
}

resource renderResultQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: runtimeQueues
  name: renderResults
}

var runtimeEndpoints = [
  { service: 'blob', zone: 0 }
  { service: 'queue', zone: 1 }
  { service: 'table', zone: 2 }
]

resource runtimeEndpoint 'Microsoft.Network/privateEndpoints@2024-05-01' = [for endpoint in runtimeEndpoints: {
  name: 'pe-${names.runtimeStorage}-${endpoint.service}'
  location: location
  tags: commonTags
  properties: {
    subnet: { id: subnets.endpoints }
    privateLinkServiceConnections: [
      {
        name: endpoint.service
        properties: {
          privateLinkServiceId: runtimeStorage.id
          groupIds: [endpoint.service]
        }
      }
    ]
  }
}]

resource runtimeEndpointDns 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = [for (endpoint, i) in runtimeEndpoints: {
  parent: runtimeEndpoint[i]
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [{ name: endpoint.service, properties: { privateDnsZoneId: zones[endpoint.zone].id } }]
  }
}]

// The media account: asset bytes. Public, because users upload to and download from it and KIE.ai fetches inputs,
// all through user delegation SAS links the apps sign with their identities; shared-key access is off, so no account
// key and no account SAS can work.
resource mediaStorage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: names.mediaStorage
  location: location
  tags: commonTags
  sku: { name: 'Standard_LRS' }
  kind: 'StorageV2'
  properties: {
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    publicNetworkAccess: 'Enabled'
  }
}

resource mediaBlobs 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: mediaStorage
  name: 'default'
  properties: {
    // Only this tenant's origins (the mediaCorsOrigins parameter); none given, no browser origin may upload or read.
    cors: {
      corsRules: empty(mediaCorsOrigins) ? [] : [
        {
          allowedOrigins: mediaCorsOrigins
          allowedMethods: ['GET', 'HEAD', 'PUT', 'OPTIONS']
          allowedHeaders: ['*']
          exposedHeaders: ['ETag', 'Content-Length', 'Content-Range']
          maxAgeInSeconds: 3600
        }
      ]
    }
  }
}

resource assets 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: mediaBlobs
  name: 'assets'
  properties: { publicAccess: 'None' }
}

// ---------------------------------------------------------------- secrets

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: names.vault
  location: location
  tags: commonTags
  properties: {
    tenantId: tenant().tenantId
    // Purge protection keeps a deleted vault's name for 30 days; a redeploy of the same environment recovers it (with its
    // secrets) instead of failing on the name.
    createMode: recoverKeyVault ? 'recover' : 'default'
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 30
    enablePurgeProtection: true
    publicNetworkAccess: 'Disabled'
    networkAcls: { defaultAction: 'Deny', bypass: 'None' }
  }
}

resource vaultEndpoint 'Microsoft.Network/privateEndpoints@2024-05-01' = {
  name: 'pe-${names.vault}'
  location: location
  tags: commonTags
  properties: {
    subnet: { id: subnets.endpoints }
    privateLinkServiceConnections: [{ name: 'vault', properties: { privateLinkServiceId: vault.id, groupIds: ['vault'] } }]
  }
}

resource vaultEndpointDns 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = {
  parent: vaultEndpoint
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [{ name: 'vault', properties: { privateDnsZoneId: zones[3].id } }]
  }
}

// Every secret the apps read, with the app setting that references it and the apps that read it (docs/configuration.md
// lists them). Written through the control plane (the vault's data plane is private), and only when this deployment
// gives a value: a redeploy without one keeps the secret as it is. Key Vault is the source of truth of each.
var secretCatalog = [
  { name: 'jwt-signing-key', setting: 'FENTA_JWT_SIGNING_KEY', api: true, orchestrations: false }
  { name: 'stripe-secret-key', setting: 'FENTA_STRIPE_SECRET_KEY', api: true, orchestrations: true }
  { name: 'stripe-webhook-secret', setting: 'FENTA_STRIPE_WEBHOOK_SECRET', api: true, orchestrations: false }
  { name: 'pexels-api-key', setting: 'FENTA_PEXELS_API_KEY', api: true, orchestrations: true }
  // The API only looks at whether it is set: cost estimates count KIE credits when the workers call KIE.
  { name: 'kie-api-key', setting: 'FENTA_KIE_API_KEY', api: true, orchestrations: true }
  // The API writes enrichment metadata (POST /v1/enrichment/generate) with the LLM the workers write scripts with.
  { name: 'llm-api-key', setting: 'FENTA_LLM_API_KEY', api: true, orchestrations: true }
  { name: 'tts-api-key', setting: 'FENTA_TTS_API_KEY', api: false, orchestrations: true }
  { name: 'asr-api-key', setting: 'FENTA_ASR_API_KEY', api: false, orchestrations: true }
  { name: 'smtp-password', setting: 'FENTA_SMTP_PASSWORD', api: true, orchestrations: false }
  // Publishing: the API connects accounts (code exchange, revocation), the workers refresh tokens, upload and read statistics.
  { name: 'youtube-client-secret', setting: 'FENTA_YOUTUBE_CLIENT_SECRET', api: true, orchestrations: true }
  { name: 'tiktok-client-secret', setting: 'FENTA_TIKTOK_CLIENT_SECRET', api: true, orchestrations: true }
  { name: 'instagram-client-secret', setting: 'FENTA_INSTAGRAM_CLIENT_SECRET', api: true, orchestrations: true }
  // The key ring's certificate (base64 PKCS#12): both apps protect and read the platforms' tokens with the same ring.
  { name: 'fenta-key-ring', setting: 'FENTA_KEY_RING_CERTIFICATE', api: true, orchestrations: true }
]
// The values this deployment carries: a given signing key (a rotation), else the generated one when the vault has none.
var secretValues = {
  'jwt-signing-key': !empty(jwtSigningKey) ? jwtSigningKey : (jwtSigningKeyInVault ? '' : generatedJwtSigningKey)
  'stripe-secret-key': stripeSecretKey
  'stripe-webhook-secret': stripeWebhookSecret
  'pexels-api-key': pexelsApiKey
  'kie-api-key': kieApiKey
  'llm-api-key': llmApiKey
  'tts-api-key': ttsApiKey
  'asr-api-key': asrApiKey
  'smtp-password': smtpPassword
  'youtube-client-secret': youtubeClientSecret
  'tiktok-client-secret': tiktokClientSecret
  'instagram-client-secret': instagramClientSecret
  // Once, when the vault has none: a new certificate would leave the keys that protect the stored tokens unreadable.
  'fenta-key-ring': keyRingCertificateInVault ? '' : keyRingCertificate
}
var secretsToStore = filter(map(secretCatalog, s => { name: s.name, value: secretValues[s.name] }), s => !empty(s.value))

resource secrets 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = [for secret in secretsToStore: {
  parent: vault
  name: secret.name
  properties: {
    value: secret.value
    // The key ring's certificate is a PKCS#12 file (base64), as a Key Vault certificate's secret would be.
    contentType: secret.name == keyRing ? 'application/x-pkcs12' : null
  }
}]

// The secrets the apps reference: the signing key and the key ring's certificate always, the provider secrets the tenant
// lists. Chosen by name only, never by whether this deployment carries a value, so a redeploy without the value keeps
// the setting.
var referencedSecrets = filter(secretCatalog, s => s.name == 'jwt-signing-key' || s.name == keyRing || contains(providerSecrets, s.name))

resource referencedSecret 'Microsoft.KeyVault/vaults/secrets@2024-11-01' existing = [for secret in referencedSecrets: {
  parent: vault
  name: secret.name
}]

// App settings that read a secret: '@Microsoft.KeyVault(SecretUri=...)' without a version (the latest), resolved by the
// platform with the app's identity.
func keyVaultReference(vaultName string, secretName string) string =>
  '@Microsoft.KeyVault(SecretUri=https://${vaultName}${environment().suffixes.keyvaultDns}/secrets/${secretName}/)'
var apiSecretSettings = map(filter(referencedSecrets, s => s.api), s => { name: s.setting, value: keyVaultReference(names.vault, s.name) })
var orchestrationsSecretSettings = map(filter(referencedSecrets, s => s.orchestrations), s => {
  name: s.setting
  value: keyVaultReference(names.vault, s.name)
})

// ---------------------------------------------------------------- database

// Inside the VNet (delegated subnet, private DNS), Microsoft Entra sign-in only: no password exists. Administrators: an
// Entra group (postgresAdminGroupObjectId: break-glass and operators), and the migrate job's identity, which applies the
// migrations (it owns the schema) and makes the apps' identities ordinary read-write roles
// (FENTA_DB_READWRITE_PRINCIPALS). The apps themselves can create, alter or drop nothing.
resource postgres 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' = {
  name: names.postgres
  location: location
  tags: commonTags
  sku: {
    name: postgresSku
    tier: postgresTier
  }
  properties: {
    version: '16'
    storage: { storageSizeGB: postgresStorageGb }
    backup: {
      backupRetentionDays: 7
      geoRedundantBackup: 'Disabled'
    }
    highAvailability: { mode: 'Disabled' }
    authConfig: {
      activeDirectoryAuth: 'Enabled'
      passwordAuth: 'Disabled'
      tenantId: tenant().tenantId
    }
    network: {
      delegatedSubnetResourceId: subnets.postgres
      privateDnsZoneArmResourceId: zones[4].id
      publicNetworkAccess: 'Disabled'
    }
  }
  dependsOn: [zoneLinks]
}

resource database 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2024-08-01' = {
  parent: postgres
  name: databaseName
  properties: {
    charset: 'UTF8'
    collation: 'en_US.utf8'
  }
}

module databaseAdminGroup 'modules/postgres-admin.bicep' = {
  name: 'postgres-admin-group'
  params: {
    serverName: postgres.name
    principalId: postgresAdminGroupObjectId
    principalName: postgresAdminGroupName
    principalType: 'Group'
  }
  dependsOn: [database]
}

// One administrator change at a time: the server refuses concurrent ones.
module databaseAdmin 'modules/postgres-admin.bicep' = {
  name: 'postgres-admin'
  params: {
    serverName: postgres.name
    principalId: identities[migrate].properties.principalId
    principalName: identities[migrate].name
    principalType: 'ServicePrincipal'
  }
  dependsOn: [databaseAdminGroup]
}

// Default max_connections of each size (Azure Database for PostgreSQL flexible server, "Limits"); the server keeps 15 of
// them for replication and monitoring, and connectionHeadroom more are left for operators, the admin group and
// maintenance. The apps' pools at their maximum instance counts must fit in the rest (docs/deployment.md has the sum).
var postgresConnectionLimits = {
  Standard_B1ms: 50
  Standard_B2s: 429
  Standard_B2ms: 859
  Standard_B4ms: 1718
  Standard_D2ds_v5: 859
  Standard_D4ds_v5: 1718
  Standard_E2ds_v5: 1718
}
var connectionHeadroom = 10
var postgresConnectionLimit = postgresConnectionLimits[?postgresSku] ?? 50
// The migrate job's one execution at a time holds a pool of migrateDbPoolSize.
var migrateDbPoolSize = 2
var connectionsAtMaxScale = functionsMaxInstances * (apiDbPoolSize + orchestrationsDbPoolSize) + renderMaxExecutions * renderDbPoolSize + migrateDbPoolSize
var connectionsAvailable = postgresConnectionLimit - 15 - connectionHeadroom

// Each identity signs in as itself; its token is the password (FENTA_DB_AUTH=entra). TLS with the server's certificate
// and host name verified (the images trust the public roots it chains to); a bounded pool per instance.
func databaseConnection(host string, database string, user string, poolSize int) string =>
  'Host=${host};Database=${database};Username=${user};SSL Mode=VerifyFull;Maximum Pool Size=${poolSize}'

// ---------------------------------------------------------------- role assignments
// Exactly what each identity uses. The Functions host needs Blob Data Owner on its AzureWebJobsStorage account (leases,
// keys); the render job has no Functions host, so it gets only the two queues and the request container it touches.

// The registry every tenant shares lives in a resource group of its own; its AcrPull grants are made there.
var registryIdParts = split(containerRegistryId, '/')

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = {
  name: last(registryIdParts)
  scope: resourceGroup(registryIdParts[2], registryIdParts[4])
}

module acrPull 'modules/registry-pull.bicep' = {
  name: 'registry-pull-${environmentName}'
  scope: resourceGroup(registryIdParts[2], registryIdParts[4])
  params: {
    registryName: registry.name
    principalIds: [for (app, i) in apps: identities[i].properties.principalId]
    roleDefinitionId: roles.acrPull
  }
}

// The Function apps: their host's storage (blobs, the task hub's queues and tables) on the runtime account.
var functionsHostRoles = [roles.blobDataOwner, roles.queueDataContributor, roles.tableDataContributor]
var functionApps = [api, orchestrations]

resource runtimeForFunctions 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for pair in flatten(map(functionApps, app => map(functionsHostRoles, role => { app: app, role: role }))): {
  name: guid(runtimeStorage.id, identities[pair.app].id, pair.role)
  scope: runtimeStorage
  properties: {
    principalId: identities[pair.app].properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', pair.role)
  }
}]

// Both Function apps sign upload and download links (user delegation keys are an account-level action) and read and
// write asset bytes.
resource mediaForFunctions 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for app in functionApps: {
  name: guid(mediaStorage.id, identities[app].id, roles.blobDataContributor)
  scope: mediaStorage
  properties: {
    principalId: identities[app].properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.blobDataContributor)
  }
}]

// Key Vault Secrets User on each secret an app references, not on the vault: the API cannot read the LLM key, the
// orchestrations cannot read the signing key.
var secretGrants = flatten(map(range(0, length(referencedSecrets)), i => concat(
  referencedSecrets[i].api ? [{ secret: i, app: api }] : [],
  referencedSecrets[i].orchestrations ? [{ secret: i, app: orchestrations }] : [])))

resource secretsForFunctions 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for grant in secretGrants: {
  name: guid(vault.id, referencedSecrets[grant.secret].name, identities[grant.app].id, roles.keyVaultSecretsUser)
  scope: referencedSecret[grant.secret]
  properties: {
    principalId: identities[grant.app].properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
  }
  dependsOn: [secrets]
}]

// The key ring's container, and nothing more, for both Function apps' token protection (they also hold Blob Data Owner
// on the whole runtime account for their Functions host; this grant keeps the key ring's access explicit should that
// ever be narrowed).
resource keyRingForFunctions 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for app in functionApps: {
  name: guid(keyRingBlobs.id, identities[app].id, roles.blobDataContributor)
  scope: keyRingBlobs
  properties: {
    principalId: identities[app].properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.blobDataContributor)
  }
}]

// The render job publishes telemetry too (the migrate job only logs to its console, which the environment keeps).
resource telemetryForFunctions 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for app in [api, orchestrations, render]: {
  name: guid(insights.id, identities[app].id, roles.monitoringMetricsPublisher)
  scope: insights
  properties: {
    principalId: identities[app].properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
  }
}]

// The render job: takes requests (and KEDA reads the queue's length) and reports results, reads and deletes request
// blobs, reads inputs and writes outputs in the asset container. Nothing else.
resource renderRequestsForRender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(renderRequestQueue.id, identities[render].id, roles.queueDataContributor)
  scope: renderRequestQueue
  properties: {
    principalId: identities[render].properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.queueDataContributor)
  }
}

resource renderResultsForRender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(renderResultQueue.id, identities[render].id, roles.queueDataContributor)
  scope: renderResultQueue
  properties: {
    principalId: identities[render].properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.queueDataContributor)
  }
}

resource requestBlobsForRender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(renderRequestBlobs.id, identities[render].id, roles.blobDataContributor)
  scope: renderRequestBlobs
  properties: {
    principalId: identities[render].properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.blobDataContributor)
  }
}

resource assetsForRender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(assets.id, identities[render].id, roles.blobDataContributor)
  scope: assets
  properties: {
    principalId: identities[render].properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.blobDataContributor)
  }
}

// ---------------------------------------------------------------- Function apps

// Elastic Premium, not Flex Consumption: the apps run ffmpeg, ffprobe and espeak-ng (probing uploads in the API; the
// media activities in the orchestrations), which Flex's managed runtime neither has nor lets an app install; Elastic
// Premium runs them as custom Linux containers, keeps an instance warm and supports VNet integration and Durable
// Functions on Azure Storage.
resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: names.plan
  location: location
  tags: commonTags
  kind: 'elastic'
  sku: {
    name: functionsPlanSku
    tier: 'ElasticPremium'
  }
  properties: {
    reserved: true
    maximumElasticWorkerCount: functionsMaxInstances
  }
}

// What both Function apps need: the runtime, identity-based host storage, telemetry with Entra auth, the database by
// token, the asset container.
func functionsSettings(clientId string, storageAccount string, storageSuffix string, insightsConnection string, databaseHost string,
  databaseName string, identityName string, poolSize int, assetsUrl string) array => [
  { name: 'FUNCTIONS_EXTENSION_VERSION', value: '~4' }
  { name: 'FUNCTIONS_WORKER_RUNTIME', value: 'dotnet-isolated' }
  { name: 'WEBSITES_ENABLE_APP_SERVICE_STORAGE', value: 'false' }
  { name: 'AzureWebJobsStorage__blobServiceUri', value: 'https://${storageAccount}.blob.${storageSuffix}' }
  { name: 'AzureWebJobsStorage__queueServiceUri', value: 'https://${storageAccount}.queue.${storageSuffix}' }
  { name: 'AzureWebJobsStorage__tableServiceUri', value: 'https://${storageAccount}.table.${storageSuffix}' }
  { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
  { name: 'AzureWebJobsStorage__clientId', value: clientId }
  { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: insightsConnection }
  { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'ClientId=${clientId};Authorization=AAD' }
  { name: 'AZURE_CLIENT_ID', value: clientId }
  { name: 'FENTA_DB', value: databaseConnection(databaseHost, databaseName, identityName, poolSize) }
  { name: 'FENTA_DB_AUTH', value: 'entra' }
  // The migrate job migrates (infra/migrate.sh, on every deployment); the apps only check the schema (/readyz).
  { name: 'FENTA_MIGRATE_ON_START', value: 'false' }
  { name: 'FENTA_AZURE_BLOB_URL', value: assetsUrl }
  // The offline stock library (used when Pexels is not keyed) is drawn by each instance on first use, on its local disk:
  // no file share, so no storage key. The same clips come out everywhere, so picked stock ids hold across instances.
  { name: 'FENTA_STOCK_DIR', value: '/tmp/fenta-stock' }
]

var assetsUrl = '${mediaStorage.properties.primaryEndpoints.blob}${assets.name}'
var apiUrl = 'https://${names.api}.azurewebsites.net'
// Publishing, on both Function apps: the API connects and disconnects accounts, the workers refresh, upload and read
// statistics. The key ring (read with the identity AZURE_CLIENT_ID names) and its certificate (a Key Vault reference in
// the secret settings) are the same for both, so either reads the tokens the other protected. Client ids given only;
// the secrets are Key Vault references (secretCatalog).
var publishingSettings = concat(
  [
    { name: 'FENTA_KEY_RING_URL', value: 'https://${runtimeStorage.name}.blob.${storageSuffix}/${keyRing}' }
    { name: 'FENTA_TIKTOK_AUDITED', value: tiktokAudited ? 'true' : 'false' }
  ],
  filter([
    { name: 'FENTA_YOUTUBE_CLIENT_ID', value: youtubeClientId }
    { name: 'FENTA_TIKTOK_CLIENT_ID', value: tiktokClientId }
    { name: 'FENTA_INSTAGRAM_CLIENT_ID', value: instagramClientId }
  ], s => !empty(s.value)))

// Mail settings of the API (its password is a Key Vault reference in apiSecretSettings); no host, no mail.
var smtpSettings = empty(smtpHost) ? [] : [
  { name: 'FENTA_SMTP_HOST', value: smtpHost }
  { name: 'FENTA_SMTP_PORT', value: string(smtpPort) }
  { name: 'FENTA_SMTP_TLS', value: smtpTls }
  { name: 'FENTA_SMTP_USERNAME', value: smtpUsername }
  { name: 'FENTA_SMTP_FROM', value: smtpFrom }
]

resource apiApp 'Microsoft.Web/sites@2024-04-01' = {
  name: names.api
  location: location
  tags: union(commonTags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux,container'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identities[api].id}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identities[api].id
    virtualNetworkSubnetId: subnets.functions
    siteConfig: {
      linuxFxVersion: 'DOCKER|${apiImage}'
      acrUseManagedIdentityCreds: true
      acrUserManagedIdentityID: identities[api].properties.clientId
      vnetRouteAllEnabled: true
      minimumElasticInstanceCount: functionsMinInstances
      ftpsState: 'Disabled'
      minTlsVersion: '1.2'
      // The runtime storage is private, so Premium's scale controller cannot see the Durable and render-results queues:
      // the runtime reports its own scale needs instead, so fan-outs scale past one instance.
      functionsRuntimeScaleMonitoringEnabled: true
      healthCheckPath: '/healthz'
      appSettings: concat(
        functionsSettings(identities[api].properties.clientId, runtimeStorage.name, storageSuffix, insights.properties.ConnectionString,
          postgres.properties.fullyQualifiedDomainName, databaseName, identities[api].name, apiDbPoolSize, assetsUrl),
        [
          { name: 'FENTA_TASK_HUB', value: taskHubName }
          // Links in mails are built from this, never from a request's Host or X-Forwarded-Host; so is the OAuth redirect
          // URI each platform must have registered: <apiUrl>/v1/integrations/<platform>/callback.
          { name: 'FENTA_PUBLIC_URL', value: apiUrl }
        ],
        publishingSettings,
        smtpSettings,
        map(items(apiSettings), s => { name: s.key, value: string(s.value) }),
        apiSecretSettings)
    }
  }
  dependsOn: [acrPull, runtimeForFunctions, mediaForFunctions, keyRingForFunctions, secretsForFunctions, telemetryForFunctions, secrets, runtimeEndpointDns, vaultEndpointDns]
}

resource orchestrationsApp 'Microsoft.Web/sites@2024-04-01' = {
  name: names.orchestrations
  location: location
  tags: union(commonTags, { 'azd-service-name': 'orchestrations' })
  kind: 'functionapp,linux,container'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identities[orchestrations].id}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // No HTTP triggers: nothing reaches it from outside.
    publicNetworkAccess: 'Disabled'
    keyVaultReferenceIdentity: identities[orchestrations].id
    virtualNetworkSubnetId: subnets.functions
    siteConfig: {
      linuxFxVersion: 'DOCKER|${orchestrationsImage}'
      acrUseManagedIdentityCreds: true
      acrUserManagedIdentityID: identities[orchestrations].properties.clientId
      vnetRouteAllEnabled: true
      minimumElasticInstanceCount: functionsMinInstances
      ftpsState: 'Disabled'
      minTlsVersion: '1.2'
      // The runtime storage is private, so Premium's scale controller cannot see the Durable and render-results queues:
      // the runtime reports its own scale needs instead, so fan-outs scale past one instance.
      functionsRuntimeScaleMonitoringEnabled: true
      appSettings: concat(
        functionsSettings(identities[orchestrations].properties.clientId, runtimeStorage.name, storageSuffix, insights.properties.ConnectionString,
          postgres.properties.fullyQualifiedDomainName, databaseName, identities[orchestrations].name, orchestrationsDbPoolSize, assetsUrl),
        [
          // The render queues and request blobs, by identity, as the RenderResults queue trigger reads its connection.
          { name: 'FENTA_STORAGE__queueServiceUri', value: 'https://${runtimeStorage.name}.queue.${storageSuffix}' }
          { name: 'FENTA_STORAGE__blobServiceUri', value: 'https://${runtimeStorage.name}.blob.${storageSuffix}' }
          { name: 'FENTA_STORAGE__credential', value: 'managedidentity' }
          { name: 'FENTA_STORAGE__clientId', value: identities[orchestrations].properties.clientId }
          { name: 'FENTA_WEBHOOK_SCHEDULE', value: '*/5 * * * * *' }
          // Published videos' statistics, every ten minutes (each platform's own pace is kept inside).
          { name: 'FENTA_PUBLICATION_STATS_SCHEDULE', value: '0 */10 * * * *' }
          // KIE.ai calls back the API.
          { name: 'FENTA_PUBLIC_URL', value: apiUrl }
        ],
        publishingSettings,
        map(items(orchestrationsSettings), s => { name: s.key, value: string(s.value) }),
        orchestrationsSecretSettings)
    }
  }
  dependsOn: [acrPull, runtimeForFunctions, mediaForFunctions, keyRingForFunctions, secretsForFunctions, telemetryForFunctions, secrets, apiApp, runtimeEndpointDns, vaultEndpointDns]
}

// Deployment goes through the registry and ARM, never FTP or the SCM site's basic auth: both off.
resource apiFtpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: apiApp
  name: 'ftp'
  properties: { allow: false }
}

resource apiScmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: apiApp
  name: 'scm'
  properties: { allow: false }
}

resource orchestrationsFtpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: orchestrationsApp
  name: 'ftp'
  properties: { allow: false }
}

resource orchestrationsScmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: orchestrationsApp
  name: 'scm'
  properties: { allow: false }
}

// ---------------------------------------------------------------- render job

resource jobsEnvironment 'Microsoft.App/managedEnvironments@2025-01-01' = {
  name: names.environment
  location: location
  tags: commonTags
  properties: {
    vnetConfiguration: {
      infrastructureSubnetId: subnets.jobs
      internal: true
    }
    workloadProfiles: [{ name: 'Consumption', workloadProfileType: 'Consumption' }]
    appLogsConfiguration: { destination: 'azure-monitor' }
  }
}

resource jobsEnvironmentLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'logs'
  scope: jobsEnvironment
  properties: {
    workspaceId: logs.id
    logs: [{ categoryGroup: 'allLogs', enabled: true }]
  }
}

// One execution per queued render (KEDA's azure-queue scaler, reading the queue with the job's identity); each takes
// one request (`worker --once`), renews its visibility while ffmpeg runs, and reports on the results queue. A 10-minute
// render fits in the replica timeout with room for downloads and the upload of the result.
resource renderJob 'Microsoft.App/jobs@2025-01-01' = {
  name: names.render
  location: location
  tags: union(commonTags, { 'azd-service-name': 'render' })
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identities[render].id}': {} }
  }
  properties: {
    environmentId: jobsEnvironment.id
    workloadProfileName: 'Consumption'
    configuration: {
      triggerType: 'Event'
      replicaTimeout: 900
      replicaRetryLimit: 1
      eventTriggerConfig: {
        parallelism: 1
        replicaCompletionCount: 1
        scale: {
          minExecutions: 0
          maxExecutions: renderMaxExecutions
          pollingInterval: 10
          rules: [
            {
              name: 'render-queue'
              type: 'azure-queue'
              metadata: {
                accountName: runtimeStorage.name
                queueName: renderRequests
                queueLength: '1'
              }
              identity: identities[render].id
            }
          ]
        }
      }
      registries: [{ server: registry.properties.loginServer, identity: identities[render].id }]
    }
    template: {
      containers: [
        {
          name: 'render'
          image: renderImage
          args: ['worker', '--once']
          resources: { cpu: json('2.0'), memory: '4Gi' }
          env: [
            { name: 'AZURE_CLIENT_ID', value: identities[render].properties.clientId }
            { name: 'FENTA_DB', value: databaseConnection(postgres.properties.fullyQualifiedDomainName, databaseName, identities[render].name, renderDbPoolSize) }
            // Telemetry with Entra authentication, as the Function apps send theirs.
            { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: insights.properties.ConnectionString }
            { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'ClientId=${identities[render].properties.clientId};Authorization=AAD' }
            { name: 'FENTA_DB_AUTH', value: 'entra' }
            { name: 'FENTA_STORAGE__queueServiceUri', value: 'https://${runtimeStorage.name}.queue.${storageSuffix}' }
            { name: 'FENTA_STORAGE__blobServiceUri', value: 'https://${runtimeStorage.name}.blob.${storageSuffix}' }
            { name: 'FENTA_STORAGE__clientId', value: identities[render].properties.clientId }
            { name: 'FENTA_AZURE_BLOB_URL', value: assetsUrl }
            // Longer than a render's longest quiet stretch; the worker renews it while ffmpeg runs.
            { name: 'FENTA_RENDER_VISIBILITY_SECONDS', value: '120' }
          ]
        }
      ]
    }
  }
  dependsOn: [acrPull, renderRequestsForRender, renderResultsForRender, requestBlobsForRender, assetsForRender, runtimeEndpointDns, apiApp]
}

// The migrate job: the API's image run as `migrate` (src/Functions.Api/Hosting/MigrateCommand.cs), started once per
// deployment by infra/migrate.sh, which waits for it. Signed in as the database's Entra administrator identity, it applies
// the migrations and grants the apps' identities read and write; nothing else runs as that identity.
resource migrateJob 'Microsoft.App/jobs@2025-01-01' = {
  name: names.migrate
  location: location
  tags: commonTags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identities[migrate].id}': {} }
  }
  properties: {
    environmentId: jobsEnvironment.id
    workloadProfileName: 'Consumption'
    configuration: {
      triggerType: 'Manual'
      manualTriggerConfig: {
        parallelism: 1
        replicaCompletionCount: 1
      }
      replicaTimeout: 1800
      // A failed migration is not retried blindly: deploy.sh reports it, and the apps stay not ready until it succeeds.
      replicaRetryLimit: 0
      registries: [{ server: registry.properties.loginServer, identity: identities[migrate].id }]
    }
    template: {
      containers: [
        {
          name: 'migrate'
          image: apiImage
          // The image's entry point is the Functions host; the command runs the worker's own build directly.
          command: ['dotnet', '/home/site/wwwroot/FentaWeb.Functions.Api.dll']
          args: ['migrate']
          resources: { cpu: json('0.5'), memory: '1Gi' }
          env: [
            { name: 'AZURE_CLIENT_ID', value: identities[migrate].properties.clientId }
            { name: 'FENTA_DB', value: databaseConnection(postgres.properties.fullyQualifiedDomainName, databaseName, identities[migrate].name, migrateDbPoolSize) }
            { name: 'FENTA_DB_AUTH', value: 'entra' }
            {
              name: 'FENTA_DB_READWRITE_PRINCIPALS'
              value: '${identities[api].name}=${identities[api].properties.principalId},${identities[orchestrations].name}=${identities[orchestrations].properties.principalId},${identities[render].name}=${identities[render].properties.principalId}'
            }
          ]
        }
      ]
    }
  }
  dependsOn: [acrPull, databaseAdmin]
}

// ---------------------------------------------------------------- diagnostics and alerts
// Everything's logs and metrics go to the one workspace: the vault's audit trail, both storage accounts' blob and queue
// requests, the database's logs, the Function hosts' logs.

resource vaultDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'logs'
  scope: vault
  properties: {
    workspaceId: logs.id
    logs: [{ categoryGroup: 'audit', enabled: true }]
    metrics: [{ category: 'AllMetrics', enabled: true }]
  }
}

// The runtime account's writes and deletes only: its reads are the Durable task hub polling five queues every second and
// the hosts reading their leases, ≈ 13 M rows a month of no audit value (docs/deployment.md, "Logs").
var runtimeStorageLogs = [
  { category: 'StorageWrite', enabled: true }
  { category: 'StorageDelete', enabled: true }
]

resource runtimeBlobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'logs'
  scope: runtimeBlobs
  properties: {
    workspaceId: logs.id
    logs: runtimeStorageLogs
    metrics: [{ category: 'Transaction', enabled: true }]
  }
}

resource runtimeQueueDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'logs'
  scope: runtimeQueues
  properties: {
    workspaceId: logs.id
    logs: runtimeStorageLogs
    metrics: [{ category: 'Transaction', enabled: true }]
  }
}

resource mediaBlobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'logs'
  scope: mediaBlobs
  properties: {
    workspaceId: logs.id
    logs: [{ categoryGroup: 'allLogs', enabled: true }]
    metrics: [{ category: 'Transaction', enabled: true }]
  }
}

resource postgresDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'logs'
  scope: postgres
  properties: {
    workspaceId: logs.id
    logs: [{ categoryGroup: 'allLogs', enabled: true }]
    metrics: [{ category: 'AllMetrics', enabled: true }]
  }
}

resource apiDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'logs'
  scope: apiApp
  properties: {
    workspaceId: logs.id
    logs: [{ category: 'FunctionAppLogs', enabled: true }]
    metrics: [{ category: 'AllMetrics', enabled: true }]
  }
}

resource orchestrationsDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'logs'
  scope: orchestrationsApp
  properties: {
    workspaceId: logs.id
    logs: [{ category: 'FunctionAppLogs', enabled: true }]
    metrics: [{ category: 'AllMetrics', enabled: true }]
  }
}

var alertActions = empty(alertActionGroupId) ? [] : [alertActionGroupId]

// The API's 5xx answers: more than 10 in five minutes.
resource serverErrorsAlert 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: 'alert-${environmentName}-api-5xx'
  location: 'global'
  tags: commonTags
  properties: {
    description: 'The API answered more than 10 requests with a 5xx status in five minutes.'
    severity: 2
    enabled: true
    scopes: [apiApp.id]
    evaluationFrequency: 'PT1M'
    windowSize: 'PT5M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [{ name: 'http5xx', criterionType: 'StaticThresholdCriterion', metricNamespace: 'Microsoft.Web/sites', metricName: 'Http5xx', operator: 'GreaterThan', threshold: 10, timeAggregation: 'Total' }]
    }
    actions: [for group in alertActions: { actionGroupId: group }]
  }
}

// Connections near the server's limit: the pools at maximum scale are sized to fit (connectionsAtMaxScale), so this
// means something else holds connections, or the limit was changed.
resource databaseConnectionsAlert 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: 'alert-${environmentName}-postgres-connections'
  location: 'global'
  tags: commonTags
  properties: {
    description: 'PostgreSQL active connections above 80% of the server\'s limit.'
    severity: 2
    enabled: true
    scopes: [postgres.id]
    evaluationFrequency: 'PT1M'
    windowSize: 'PT5M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [{ name: 'connections', criterionType: 'StaticThresholdCriterion', metricNamespace: 'Microsoft.DBforPostgreSQL/flexibleServers', metricName: 'active_connections', operator: 'GreaterThan', threshold: postgresConnectionLimit * 8 / 10, timeAggregation: 'Maximum' }]
    }
    actions: [for group in alertActions: { actionGroupId: group }]
  }
}

// Log alerts (scheduled queries) on the apps' telemetry in the workspace. Application Insights is workspace-based, so
// what the apps' Azure Monitor OpenTelemetry exporters send lands in its tables there: the metrics of the meter
// "FentaWeb" (src/Runs/Telemetry.cs) in AppMetrics, a row per metric, tag set and export interval with the instrument's
// Name, the Sum and ItemCount of its measurements (counters go as deltas: Sum is what was added in the interval) and the
// tags in Properties (https://learn.microsoft.com/azure/azure-monitor/reference/tables/appmetrics); logs in AppTraces.
// measure: the column whose total over the window is compared (none: the rows are counted).
var logAlerts = [
  {
    name: 'failed-jobs'
    description: 'Jobs failed in the last 15 minutes (the fenta.jobs.failed metric; its fenta.workflow and fenta.template tags name them).'
    severity: 2
    query: 'AppMetrics | where Name == \'fenta.jobs.failed\''
    measure: 'Sum'
  }
  {
    name: 'poisoned-renders'
    description: 'A render request was given up after too many deliveries (RENDER_POISONED; the fenta.render.poisoned metric).'
    severity: 1
    query: 'AppMetrics | where Name == \'fenta.render.poisoned\''
    measure: 'Sum'
  }
  {
    // The Functions host moves such a message and logs it; nothing of FentaWeb's sees it to count it.
    name: 'poisoned-render-results'
    description: 'A render result message went to its poison queue: the run waiting on it did not hear how its render ended.'
    severity: 1
    query: 'AppTraces | where Message has \'${renderResults}-poison\''
    measure: ''
  }
]

resource logAlertRules 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [for alert in logAlerts: {
  name: 'alert-${environmentName}-${alert.name}'
  location: location
  tags: commonTags
  properties: {
    description: alert.description
    severity: alert.severity
    enabled: true
    scopes: [logs.id]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [union({ query: alert.query, operator: 'GreaterThan', threshold: 0 },
        empty(alert.measure) ? { timeAggregation: 'Count' } : { timeAggregation: 'Total', metricMeasureColumn: alert.measure })]
    }
    actions: { actionGroups: alertActions }
  }
}]

output apiUrl string = apiUrl
// azd reads this output into its environment: the registry `azd deploy` builds the three images in and pushes them to
// (ContainerHelper.RegistryName in Azure/azure-dev cli/azd/pkg/project/container_helper.go; without it, or a
// docker.registry in azure.yaml, azd deploy stops with "could not determine container registry endpoint"). It must be
// in the deployment's subscription: azd's remote build looks the registry up by name there.
output AZURE_CONTAINER_REGISTRY_ENDPOINT string = registry.properties.loginServer
output apiFunctionApp string = apiApp.name
output orchestrationsFunctionApp string = orchestrationsApp.name
output renderJob string = renderJob.name
output migrateJob string = migrateJob.name
output postgresHost string = postgres.properties.fullyQualifiedDomainName
output mediaStorageAccount string = mediaStorage.name
// The database connections the apps' pools may hold at maximum scale, and what the server leaves them (docs/deployment.md).
output databaseConnectionsAtMaxScale int = connectionsAtMaxScale
output databaseConnectionsAvailable int = connectionsAvailable
