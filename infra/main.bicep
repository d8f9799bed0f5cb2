// sioless on Azure: a Python Function App behind Azure Web PubSub for Socket.IO (serverless mode).
//
// What gets created (docs/deploy.md explains each choice):
//   resource group, user-assigned identity, Log Analytics + Application Insights (Entra-only ingestion),
//   storage account (shared keys disabled; the host reaches it with the identity),
//   Web PubSub for Socket.IO (kind SocketIO, serviceMode Serverless, local auth disabled),
//   a Linux App Service plan (Dedicated, NOT Flex Consumption: see app/api.bicep) and the Function App,
//   and the role assignments that let the identity (and optionally you) use storage, telemetry and Web PubSub.
//
// The hubs ("chat", "whiteboard") are NOT declared here: their webhook URL carries the function's
// `socketio_extension` system key, which only exists once the deployed host has loaded the extension.
// scripts/postdeploy.sh (.ps1 on Windows) configures them after `azd deploy`.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; it names the resource group and seeds every resource name.')
param environmentName string

@minLength(1)
@description('Primary location for all resources.')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Object id of the user or service principal running azd; it gets read/write data access to storage and Web PubSub. Empty skips these assignments.')
param principalId string = ''

@allowed([
  'User'
  'ServicePrincipal'
])
@description('Kind of principalId: User for a person at a terminal, ServicePrincipal for a CI pipeline.')
param principalType string = 'User'

// Dedicated Linux SKUs only. Flex Consumption (FC1) is deliberately not offered: the Socket.IO
// extension 1.0.0 fails every webhook there (Azure/azure-webpubsub#877). Elastic Premium (EP*) is left
// out because it needs an Azure Files content share, which cannot use identity-based access.
@allowed([
  'B1'
  'B2'
  'B3'
  'S1'
  'P0v3'
  'P1v3'
])
@description('App Service plan SKU of the Function App (Linux, Dedicated). B1-B3 need Basic VM quota, S1 Standard, P0v3/P1v3 Premium v3: pick one your subscription has quota for (SubscriptionIsOverQuotaForSku).')
param functionPlanSku string = 'B1'

// Premium_P1 by default: the tier every Microsoft source for Socket.IO serverless mode uses (the serverless
// tutorial, its Bicep sample, the CLI's test). Free_F1 and Standard_S1 are cheaper but no Microsoft source
// shows them with serverless mode; docs/deploy.md ("Web PubSub tier") gives the costs and the one-line switch.
@allowed([
  'Free_F1'
  'Standard_S1'
  'Premium_P1'
])
@description('Web PubSub for Socket.IO SKU. Premium_P1 (default): 1,000 connections per unit. Free_F1: 20 connections, 20k messages a day.')
param webPubSubSku string = 'Premium_P1'

@description('Region of the App Service plan and the Function App; empty = location. Use it when the plan SKU has no quota in location (SubscriptionIsOverQuotaForSku).')
param functionLocation string = ''

@description('Application (client) id of an Entra app registration: turns on App Service Authentication (sign-in with Microsoft Entra ID, app/auth.bicep). Empty: no sign-in, every caller is a guest.')
param authClientId string = ''

@description('Optional override of the resource group name.')
param resourceGroupName string = ''

var abbrs = loadJsonContent('abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
// The plan and the app may live in another region than the rest (quota); everything else stays in location.
var appLocation = empty(functionLocation) ? location : functionLocation
// The azd service name in azure.yaml; azd finds the Function App by the `azd-service-name` tag.
var serviceName = 'api'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    workspaceName: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    appInsightsName: '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}${resourceToken}'
    location: location
    tags: tags
  }
}

module socketio 'app/socketio.bicep' = {
  name: 'socketio'
  scope: rg
  params: {
    name: '${abbrs.signalRServiceWebPubSub}${resourceToken}'
    location: location
    tags: tags
    sku: webPubSubSku
  }
}

module api 'app/api.bicep' = {
  name: 'api'
  scope: rg
  // The host should find its storage and Web PubSub roles in place when it first starts.
  dependsOn: [
    rbac
  ]
  params: {
    name: '${abbrs.webSitesFunctions}${resourceToken}'
    planName: '${abbrs.webServerFarms}${resourceToken}'
    location: appLocation
    tags: tags
    serviceName: serviceName
    planSku: functionPlanSku
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    appInsightsConnectionString: monitoring.outputs.connectionString
    storageBlobEndpoint: storage.outputs.blobEndpoint
    storageQueueEndpoint: storage.outputs.queueEndpoint
    storageTableEndpoint: storage.outputs.tableEndpoint
    webPubSubHostName: socketio.outputs.hostName
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    appInsightsName: monitoring.outputs.appInsightsName
    webPubSubName: socketio.outputs.name
    identityPrincipalId: identity.outputs.principalId
    userPrincipalId: principalId
    userPrincipalType: principalType
  }
}

module auth 'app/auth.bicep' = if (!empty(authClientId)) {
  name: 'auth'
  scope: rg
  params: {
    functionAppName: api.outputs.name
    clientId: authClientId
    tenantId: tenant().tenantId
  }
}

// azd stores these in .azure/<env>/.env; the post-deploy hook and docs/deploy.md read them.
output AZURE_LOCATION string = location
output AZURE_FUNCTION_LOCATION string = appLocation
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_NAME string = api.outputs.name
output AZURE_FUNCTION_URL string = api.outputs.url
output SERVICE_API_NAME string = api.outputs.name
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_USER_ASSIGNED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output WEBPUBSUB_NAME string = socketio.outputs.name
output WEBPUBSUB_ENDPOINT string = 'https://${socketio.outputs.hostName}'
output APPLICATIONINSIGHTS_CONNECTION_STRING string = monitoring.outputs.connectionString
