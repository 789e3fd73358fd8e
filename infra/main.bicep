// One FentaWeb tenant environment in one resource group: PostgreSQL (all product state), a storage account with the
// Durable Task hub, the render queues and a Blob container for asset bytes (reached with the apps' managed identity),
// an Azure Files share for the offline stock library the API and workers share, and three container apps from the
// repository's Dockerfiles: the API (public HTTPS), the orchestration worker (runs, schedules, webhooks) and the render
// worker, which scales on the render queue's depth.
//
//   az deployment group create -g <rg> -f infra/main.bicep -p infra/main.bicepparam
targetScope = 'resourceGroup'

@description('Short name of the tenant environment (e.g. acme-prod); every resource is named from it.')
@minLength(3)
@maxLength(16)
param environmentName string

param location string = resourceGroup().location

@description('Images built from src/Functions.Api, src/Functions.Orchestrations and src/Render.Container (their Dockerfiles).')
param apiImage string
param workerImage string
param renderImage string

@description('An Azure Container Registry in this resource group that holds the images (pulled with the environment\'s identity); empty for a public registry.')
param containerRegistryName string = ''

param postgresAdminLogin string = 'fentaadmin'

@secure()
param postgresAdminPassword string

@description('HMAC key of access tokens; at least 32 characters, shared by every API replica.')
@secure()
@minLength(32)
param jwtSigningKey string

@description('Optional provider keys; without them the offline defaults run (local generator, template writer, espeak-ng, local stock).')
@secure()
param kieApiKey string = ''
@secure()
param pexelsApiKey string = ''
@secure()
param llmApiKey string = ''
param llmBaseUrl string = ''

param postgresSku string = 'Standard_B1ms'
param postgresTier string = 'Burstable'
param postgresStorageGb int = 32

@minValue(1)
param apiMinReplicas int = 1
@minValue(1)
param workerReplicas int = 1
@minValue(1)
param renderMaxReplicas int = 3

var suffix = uniqueString(resourceGroup().id, environmentName)
var names = {
  logs: 'log-${environmentName}'
  identity: 'id-${environmentName}'
  storage: take('stfenta${replace(environmentName, '-', '')}${suffix}', 24)
  postgres: 'psql-${environmentName}-${suffix}'
  environment: 'cae-${environmentName}'
  api: 'ca-${environmentName}-api'
  worker: 'ca-${environmentName}-worker'
  render: 'ca-${environmentName}-render'
}
var storageMount = '/mnt/fenta'
var databaseName = 'fenta'

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: names.logs
  location: location
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: names.identity
  location: location
}

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = if (!empty(containerRegistryName)) {
  name: containerRegistryName
}

// AcrPull, so the apps pull their images with the environment's identity instead of registry passwords.
resource acrPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(containerRegistryName)) {
  name: guid(resourceGroup().id, environmentName, 'acrpull')
  scope: registry
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '7f951dda-4ed3-4680-a7ca-43fe172d538d')
  }
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: names.storage
  location: location
  sku: { name: 'Standard_LRS' }
  kind: 'StorageV2'
  properties: {
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    supportsHttpsTrafficOnly: true
  }
}

resource blobServices 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

// Asset bytes (FENTA_AZURE_BLOB_URL): uploads, voices, clips, renders. Clients upload and download straight from here
// with user delegation SAS links the apps sign (no account key); direct uploads land under staging/ first.
resource assetsContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobServices
  name: 'assets'
  properties: {
    publicAccess: 'None'
  }
}

// Storage Blob Data Contributor for the apps' identity: no account key in the apps for asset bytes. The role also
// allows generateUserDelegationKey, which signs the upload and download links.
resource blobContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, environmentName, 'blob-data-contributor')
  scope: storage
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'ba92f5b4-2d11-453d-a403-e96b0029c9fe')
  }
}

resource fileServices 'Microsoft.Storage/storageAccounts/fileServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

// FENTA_STOCK_DIR lives here, so the API (stock search) and every worker replica see the same library.
resource share 'Microsoft.Storage/storageAccounts/fileServices/shares@2023-05-01' = {
  parent: fileServices
  name: 'fenta'
  properties: {
    shareQuota: 1024
  }
}

resource postgres 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' = {
  name: names.postgres
  location: location
  sku: {
    name: postgresSku
    tier: postgresTier
  }
  properties: {
    version: '15'
    administratorLogin: postgresAdminLogin
    administratorLoginPassword: postgresAdminPassword
    storage: { storageSizeGB: postgresStorageGb }
    backup: {
      backupRetentionDays: 7
      geoRedundantBackup: 'Disabled'
    }
    highAvailability: { mode: 'Disabled' }
  }
}

resource database 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2024-08-01' = {
  parent: postgres
  name: databaseName
  properties: {
    charset: 'UTF8'
    collation: 'en_US.utf8'
  }
}

// Container Apps reach the server over Azure's network; no other address is let in.
resource allowAzure 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2024-08-01' = {
  parent: postgres
  name: 'AllowAzureServices'
  properties: {
    startIpAddress: '0.0.0.0'
    endIpAddress: '0.0.0.0'
  }
}

resource environment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: names.environment
  location: location
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: logs.properties.customerId
        sharedKey: logs.listKeys().primarySharedKey
      }
    }
  }
}

resource environmentStorage 'Microsoft.App/managedEnvironments/storages@2024-03-01' = {
  parent: environment
  name: 'fenta'
  properties: {
    azureFile: {
      accountName: storage.name
      accountKey: storage.listKeys().keys[0].value
      shareName: share.name
      accessMode: 'ReadWrite'
    }
  }
}

var connectionString = 'Host=${postgres.properties.fullyQualifiedDomainName};Database=${databaseName};Username=${postgresAdminLogin};Password=${postgresAdminPassword};SSL Mode=Require'
var publicUrl = 'https://${names.api}.${environment.properties.defaultDomain}'

// The task hub and the render queues (Durable Task's Azure Storage backend reads a connection string today; identity-based
// storage settings come with the move to Function apps).
var storageConnection = 'DefaultEndpointsProtocol=https;AccountName=${storage.name};AccountKey=${storage.listKeys().keys[0].value};EndpointSuffix=${az.environment().suffixes.storage}'

var secrets = concat([
  { name: 'db', value: connectionString }
  { name: 'storage-connection', value: storageConnection }
  { name: 'jwt-signing-key', value: jwtSigningKey }
], empty(kieApiKey) ? [] : [{ name: 'kie-api-key', value: kieApiKey }],
   empty(pexelsApiKey) ? [] : [{ name: 'pexels-api-key', value: pexelsApiKey }],
   empty(llmApiKey) ? [] : [{ name: 'llm-api-key', value: llmApiKey }])

// Every process reads the same settings (README, Configuration); secrets are referenced, never inlined.
var sharedEnv = concat([
  { name: 'FENTA_DB', secretRef: 'db' }
  { name: 'FENTA_STORAGE_CONNECTION', secretRef: 'storage-connection' }
  { name: 'FENTA_JWT_SIGNING_KEY', secretRef: 'jwt-signing-key' }
  { name: 'FENTA_AZURE_BLOB_URL', value: '${storage.properties.primaryEndpoints.blob}${assetsContainer.name}' }
  { name: 'AZURE_CLIENT_ID', value: identity.properties.clientId }
  { name: 'FENTA_STOCK_DIR', value: '${storageMount}/stock' }
  { name: 'FENTA_PUBLIC_URL', value: publicUrl }
], empty(kieApiKey) ? [] : [{ name: 'FENTA_KIE_API_KEY', secretRef: 'kie-api-key' }],
   empty(pexelsApiKey) ? [] : [{ name: 'FENTA_PEXELS_API_KEY', secretRef: 'pexels-api-key' }],
   empty(llmApiKey) ? [] : [{ name: 'FENTA_LLM_API_KEY', secretRef: 'llm-api-key' }, { name: 'FENTA_LLM_BASE_URL', value: llmBaseUrl }])

var registries = empty(containerRegistryName) ? [] : [
  {
    server: registry!.properties.loginServer
    identity: identity.id
  }
]

var volumes = [
  {
    name: 'fenta'
    storageType: 'AzureFile'
    storageName: environmentStorage.name
  }
]
var volumeMounts = [
  {
    volumeName: 'fenta'
    mountPath: storageMount
  }
]

resource api 'Microsoft.App/containerApps@2024-03-01' = {
  name: names.api
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  dependsOn: [acrPull, blobContributor, database, allowAzure]
  properties: {
    managedEnvironmentId: environment.id
    configuration: {
      ingress: {
        external: true
        targetPort: 8080
        transport: 'auto'
      }
      secrets: secrets
      registries: registries
    }
    template: {
      containers: [
        {
          name: 'api'
          image: apiImage
          resources: { cpu: json('0.5'), memory: '1Gi' }
          env: concat(sharedEnv, [{ name: 'ASPNETCORE_URLS', value: 'http://+:8080' }])
          volumeMounts: volumeMounts
          probes: [
            { type: 'Liveness', httpGet: { path: '/healthz', port: 8080 } }
            { type: 'Readiness', httpGet: { path: '/readyz', port: 8080 } }
          ]
        }
      ]
      volumes: volumes
      scale: {
        minReplicas: apiMinReplicas
        maxReplicas: max(apiMinReplicas, 5)
        rules: [{ name: 'http', http: { metadata: { concurrentRequests: '50' } } }]
      }
    }
  }
}

resource worker 'Microsoft.App/containerApps@2024-03-01' = {
  name: names.worker
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  dependsOn: [acrPull, blobContributor, database, allowAzure]
  properties: {
    managedEnvironmentId: environment.id
    configuration: {
      secrets: secrets
      registries: registries
    }
    template: {
      containers: [
        {
          name: 'worker'
          image: workerImage
          resources: { cpu: json('1.0'), memory: '2Gi' }
          env: sharedEnv
          volumeMounts: volumeMounts
        }
      ]
      volumes: volumes
      scale: {
        minReplicas: workerReplicas
        maxReplicas: workerReplicas
      }
    }
  }
}

// Renders are the heavy part: replicas follow the number of requests waiting on the render queue (KEDA's azure-queue
// scaler), one render per replica.
resource render 'Microsoft.App/containerApps@2024-03-01' = {
  name: names.render
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  dependsOn: [acrPull, blobContributor, database, allowAzure]
  properties: {
    managedEnvironmentId: environment.id
    configuration: {
      secrets: secrets
      registries: registries
    }
    template: {
      containers: [
        {
          name: 'render'
          image: renderImage
          args: ['worker']
          resources: { cpu: json('2.0'), memory: '4Gi' }
          env: sharedEnv
          volumeMounts: volumeMounts
        }
      ]
      volumes: volumes
      scale: {
        minReplicas: 1
        maxReplicas: renderMaxReplicas
        rules: [
          {
            name: 'render-queue'
            custom: {
              type: 'azure-queue'
              metadata: {
                queueName: 'render-requests'
                queueLength: '1'
                accountName: storage.name
              }
              auth: [{ secretRef: 'storage-connection', triggerParameter: 'connection' }]
            }
          }
        ]
      }
    }
  }
}

output apiUrl string = publicUrl
output postgresHost string = postgres.properties.fullyQualifiedDomainName
output storageAccount string = storage.name
