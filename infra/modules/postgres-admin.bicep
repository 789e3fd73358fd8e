// A Microsoft Entra administrator of a PostgreSQL flexible server. A module of its own because the resource is named
// by the principal's object id, which is known only once the identity exists.
param serverName string
param principalId string
param principalName string
@allowed(['Group', 'ServicePrincipal', 'User'])
param principalType string

resource server 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' existing = {
  name: serverName
}

resource administrator 'Microsoft.DBforPostgreSQL/flexibleServers/administrators@2024-08-01' = {
  parent: server
  name: principalId
  properties: {
    principalType: principalType
    principalName: principalName
    tenantId: tenant().tenantId
  }
}
