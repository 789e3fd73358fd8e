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

@description('Short name of the tenant environment (e.g. acme-prod); every resource is named from it.')
@minLength(3)
@maxLength(16)
param environmentName string

param location string = resourceGroup().location

@description('An Azure Container Registry in this resource group holding the three images; each identity pulls with AcrPull.')
param containerRegistryName string

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

param postgresSku string = 'Standard_B1ms'
@allowed(['Burstable', 'GeneralPurpose', 'MemoryOptimized'])
param postgresTier string = 'Burstable'
param postgresStorageGb int = 32

@description('At most this many renders at once (one Container Apps job execution each).')
@minValue(1)
param renderMaxExecutions int = 10

@description('Origins allowed to PUT uploads to and GET media from the media account (browser uploads with the signed link).')
param mediaCorsOrigins array = ['*']

param vnetAddressPrefix string = '10.40.0.0/16'

@description('HMAC key of access tokens: at least 32 characters, shared by every API instance. Stored in Key Vault only.')
@secure()
@minLength(32)
param jwtSigningKey string

@description('Optional provider secrets; without them the offline defaults run (local generator, template writer, espeak-ng, local stock, free plan).')
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

@description('Plain provider settings (not secrets): base URLs and Stripe price ids, as FENTA_* names (docs/configuration.md).')
param apiSettings object = {}
param orchestrationsSettings object = {}

var suffix = uniqueString(resourceGroup().id, environmentName)
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
}
var databaseName = 'fenta'
// The orchestrations' host.json names this hub; the API's host.json and its [DurableClient] name it through FENTA_TASK_HUB.
var taskHubName = 'fentaweb'
var renderRequests = 'render-requests'
var renderResults = 'render-results'
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
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

// Entra authentication only: the apps publish telemetry with their identities (Monitoring Metrics Publisher).
resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: names.insights
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
    DisableLocalAuth: true
  }
}

// ---------------------------------------------------------------- identities

// One identity per app, so each gets only its own grants: identities[api], identities[orchestrations], identities[render].
var apps = ['api', 'orch', 'render']
var api = 0
var orchestrations = 1
var render = 2

resource identities 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = [for app in apps: {
  name: 'id-${environmentName}-${app}'
  location: location
}]

// ---------------------------------------------------------------- network

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: names.vnet
  location: location
  properties: {
    addressSpace: { addressPrefixes: [vnetAddressPrefix] }
    subnets: [
      {
        // Outbound VNet integration of the two Function apps.
        name: 'functions'
        properties: {
          addressPrefix: cidrSubnet(vnetAddressPrefix, 24, 1)
          delegations: [{ name: 'web', properties: { serviceName: 'Microsoft.Web/serverFarms' } }]
        }
      }
      {
        // The Container Apps environment of the render job (workload profiles need /27 or larger, delegated).
        name: 'jobs'
        properties: {
          addressPrefix: cidrSubnet(vnetAddressPrefix, 23, 1)
          delegations: [{ name: 'apps', properties: { serviceName: 'Microsoft.App/environments' } }]
        }
      }
      {
        name: 'endpoints'
        properties: {
          addressPrefix: cidrSubnet(vnetAddressPrefix, 24, 4)
        }
      }
      {
        name: 'postgres'
        properties: {
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
}]

resource zoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [for (zone, i) in privateZones: {
  parent: zones[i]
  name: 'vnet'
  location: 'global'
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
    cors: {
      corsRules: [
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
  properties: {
    tenantId: tenant().tenantId
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

// Every secret the apps read, with the app setting that references it. Written through the control plane (the vault's
// data plane is private); empty optional secrets are left out and their features run on the offline defaults.
var secretValues = [
  { name: 'jwt-signing-key', setting: 'FENTA_JWT_SIGNING_KEY', value: jwtSigningKey, api: true, orchestrations: false }
  { name: 'stripe-secret-key', setting: 'FENTA_STRIPE_SECRET_KEY', value: stripeSecretKey, api: true, orchestrations: true }
  { name: 'stripe-webhook-secret', setting: 'FENTA_STRIPE_WEBHOOK_SECRET', value: stripeWebhookSecret, api: true, orchestrations: false }
  { name: 'pexels-api-key', setting: 'FENTA_PEXELS_API_KEY', value: pexelsApiKey, api: true, orchestrations: true }
  // The API only looks at whether it is set: cost estimates count KIE credits when the workers call KIE.
  { name: 'kie-api-key', setting: 'FENTA_KIE_API_KEY', value: kieApiKey, api: true, orchestrations: true }
  { name: 'llm-api-key', setting: 'FENTA_LLM_API_KEY', value: llmApiKey, api: false, orchestrations: true }
  { name: 'tts-api-key', setting: 'FENTA_TTS_API_KEY', value: ttsApiKey, api: false, orchestrations: true }
  { name: 'asr-api-key', setting: 'FENTA_ASR_API_KEY', value: asrApiKey, api: false, orchestrations: true }
  { name: 'smtp-password', setting: 'FENTA_SMTP_PASSWORD', value: smtpPassword, api: true, orchestrations: false }
]
var secretsToStore = filter(secretValues, s => !empty(s.value))

resource secrets 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = [for secret in secretsToStore: {
  parent: vault
  name: secret.name
  properties: { value: secret.value }
}]

// App settings that read a secret: '@Microsoft.KeyVault(...)', resolved by the platform with the app's identity.
var apiSecretSettings = map(filter(secretsToStore, s => s.api), s => {
  name: s.setting
  value: '@Microsoft.KeyVault(VaultName=${names.vault};SecretName=${s.name})'
})
var orchestrationsSecretSettings = map(filter(secretsToStore, s => s.orchestrations), s => {
  name: s.setting
  value: '@Microsoft.KeyVault(VaultName=${names.vault};SecretName=${s.name})'
})

// ---------------------------------------------------------------- database

// Inside the VNet (delegated subnet, private DNS), Microsoft Entra sign-in only: no password exists. The API's identity
// is the Entra administrator (it migrates at start-up); it makes read-write roles for the other two identities.
resource postgres 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' = {
  name: names.postgres
  location: location
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

module databaseAdmin 'modules/postgres-admin.bicep' = {
  name: 'postgres-admin'
  params: {
    serverName: postgres.name
    principalId: identities[api].properties.principalId
    principalName: identities[api].name
  }
  dependsOn: [database]
}

// Each identity signs in as itself; its token is the password (FENTA_DB_AUTH=entra).
func databaseConnection(host string, database string, user string) string =>
  'Host=${host};Database=${database};Username=${user};SSL Mode=Require'

// ---------------------------------------------------------------- role assignments
// Exactly what each identity uses. The Functions host needs Blob Data Owner on its AzureWebJobsStorage account (leases,
// keys); the render job has no Functions host, so it gets only the two queues and the request container it touches.

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = {
  name: containerRegistryName
}

resource acrPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for (app, i) in apps: {
  name: guid(registry.id, identities[i].id, roles.acrPull)
  scope: registry
  properties: {
    principalId: identities[i].properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.acrPull)
  }
}]

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

resource secretsForFunctions 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for app in functionApps: {
  name: guid(vault.id, identities[app].id, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    principalId: identities[app].properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
  }
}]

resource telemetryForFunctions 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for app in functionApps: {
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
  databaseName string, identityName string, assetsUrl string) array => [
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
  { name: 'FENTA_DB', value: databaseConnection(databaseHost, databaseName, identityName) }
  { name: 'FENTA_DB_AUTH', value: 'entra' }
  { name: 'FENTA_AZURE_BLOB_URL', value: assetsUrl }
  // The offline stock library (used when Pexels is not keyed) is drawn by each instance on first use, on its local disk:
  // no file share, so no storage key. The same clips come out everywhere, so picked stock ids hold across instances.
  { name: 'FENTA_STOCK_DIR', value: '/tmp/fenta-stock' }
]

var assetsUrl = '${mediaStorage.properties.primaryEndpoints.blob}${assets.name}'
var apiUrl = 'https://${names.api}.azurewebsites.net'
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
      healthCheckPath: '/healthz'
      appSettings: concat(
        functionsSettings(identities[api].properties.clientId, runtimeStorage.name, storageSuffix, insights.properties.ConnectionString,
          postgres.properties.fullyQualifiedDomainName, databaseName, identities[api].name, assetsUrl),
        [
          { name: 'FENTA_TASK_HUB', value: taskHubName }
          { name: 'FENTA_DB_READWRITE_PRINCIPALS', value: '${identities[orchestrations].name}=${identities[orchestrations].properties.principalId},${identities[render].name}=${identities[render].properties.principalId}' }
          // Links in mails are built from this, never from a request's Host or X-Forwarded-Host.
          { name: 'FENTA_PUBLIC_URL', value: apiUrl }
        ],
        smtpSettings,
        map(items(apiSettings), s => { name: s.key, value: string(s.value) }),
        apiSecretSettings)
    }
  }
  dependsOn: [acrPull, runtimeForFunctions, mediaForFunctions, secretsForFunctions, telemetryForFunctions, secrets, databaseAdmin, runtimeEndpointDns, vaultEndpointDns]
}

resource orchestrationsApp 'Microsoft.Web/sites@2024-04-01' = {
  name: names.orchestrations
  location: location
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
      appSettings: concat(
        functionsSettings(identities[orchestrations].properties.clientId, runtimeStorage.name, storageSuffix, insights.properties.ConnectionString,
          postgres.properties.fullyQualifiedDomainName, databaseName, identities[orchestrations].name, assetsUrl),
        [
          // The render queues and request blobs, by identity, as the RenderResults queue trigger reads its connection.
          { name: 'FENTA_STORAGE__queueServiceUri', value: 'https://${runtimeStorage.name}.queue.${storageSuffix}' }
          { name: 'FENTA_STORAGE__blobServiceUri', value: 'https://${runtimeStorage.name}.blob.${storageSuffix}' }
          { name: 'FENTA_STORAGE__credential', value: 'managedidentity' }
          { name: 'FENTA_STORAGE__clientId', value: identities[orchestrations].properties.clientId }
          { name: 'FENTA_WEBHOOK_SCHEDULE', value: '*/5 * * * * *' }
          // KIE.ai calls back the API.
          { name: 'FENTA_PUBLIC_URL', value: apiUrl }
        ],
        map(items(orchestrationsSettings), s => { name: s.key, value: string(s.value) }),
        orchestrationsSecretSettings)
    }
  }
  dependsOn: [acrPull, runtimeForFunctions, mediaForFunctions, secretsForFunctions, telemetryForFunctions, secrets, apiApp, runtimeEndpointDns, vaultEndpointDns]
}

// ---------------------------------------------------------------- render job

resource jobsEnvironment 'Microsoft.App/managedEnvironments@2025-01-01' = {
  name: names.environment
  location: location
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
            { name: 'FENTA_DB', value: databaseConnection(postgres.properties.fullyQualifiedDomainName, databaseName, identities[render].name) }
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

output apiUrl string = apiUrl
output apiFunctionApp string = apiApp.name
output orchestrationsFunctionApp string = orchestrationsApp.name
output renderJob string = renderJob.name
output postgresHost string = postgres.properties.fullyQualifiedDomainName
output mediaStorageAccount string = mediaStorage.name
