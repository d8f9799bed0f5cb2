// The Function App (Python 3.13, Functions v4) on a Linux Dedicated (App Service) plan.
//
// Why not Flex Consumption, the plan azd's Python quickstart uses:
//   * the Socket.IO extension 1.0.0 throws on every webhook there, because Flex does not forward the
//     WebHook-Request-Origin header it reads unconditionally (Azure/azure-webpubsub#877, open);
//   * Flex requires non-C# apps to take extensions from an extension bundle, and the extension is only
//     in the Preview bundle; this repository installs it explicitly from extensions.csproj instead.
// Why not Linux Consumption (Y1): it retires on 2028-09-30 and gets no new language versions; its remote
// build keeps the package behind a storage SAS URL, which needs the key this key-less account refuses.
// Dedicated runs the classic host (the one the extension's samples run on), supports an identity-based
// AzureWebJobsStorage without any file share, keeps the host warm (alwaysOn), and builds remotely with
// Oryx: requirements.txt is installed on the server; the extension assemblies arrive prebuilt in bin/
// (azure.yaml's prepackage hook runs `dotnet build extensions.csproj --output bin`).
param name string
param planName string
param location string
param tags object
param serviceName string
param planSku string
param identityId string
param identityClientId string
param appInsightsConnectionString string
param storageBlobEndpoint string
param storageQueueEndpoint string
param storageTableEndpoint string
param webPubSubHostName string

// Every setting the code, the host and the Socket.IO extension read. tests/contract/test_deploy_settings.py
// checks this object against the settings the Python code reads, so add new ones here.
var appSettings = {
  FUNCTIONS_EXTENSION_VERSION: '~4'
  FUNCTIONS_WORKER_RUNTIME: 'python'
  // Remote build: Kudu runs Oryx, which pip-installs requirements.txt into .python_packages.
  SCM_DO_BUILD_DURING_DEPLOYMENT: 'true'
  ENABLE_ORYX_BUILD: 'true'
  // Host storage through the identity (no connection string, no key).
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AzureWebJobsStorage__blobServiceUri: storageBlobEndpoint
  AzureWebJobsStorage__queueServiceUri: storageQueueEndpoint
  AzureWebJobsStorage__tableServiceUri: storageTableEndpoint
  // The Socket.IO extension's default connection, identity-based (docs/protocol.md#extension-settings).
  WebPubSubForSocketIOConnectionString__endpoint: 'https://${webPubSubHostName}'
  WebPubSubForSocketIOConnectionString__credential: 'managedidentity'
  WebPubSubForSocketIOConnectionString__clientId: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  // azure-identity's DefaultAzureCredential/ManagedIdentityCredential pick the user-assigned identity.
  AZURE_CLIENT_ID: identityClientId
  // Sample tunables (docs/whiteboard.md "Settings"): the whiteboard's presence sweep.
  SIOLESS_PRESENCE_SWEEP_SCHEDULE: '*/10 * * * * *'
  SIOLESS_PRESENCE_MIN_AGE_SECONDS: '20'
  SIOLESS_PRESENCE_SWEEP_CONCURRENCY: '8'
  // (docs/limits.md): the timer that deletes chat history older than SIOLESS_CHAT_HISTORY_MAX_AGE_SECONDS.
  SIOLESS_CHAT_HISTORY_SWEEP_SCHEDULE: '0 */5 * * * *'
}

resource plan 'Microsoft.Web/serverfarms@2023-12-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'linux'
  sku: {
    name: planSku
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2023-12-01' = {
  name: name
  location: location
  tags: union(tags, {
    'azd-service-name': serviceName
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      linuxFxVersion: 'Python|3.13'
      alwaysOn: true
      ftpsState: 'Disabled'
      minTlsVersion: '1.2'
    }
  }

  resource settings 'config' = {
    name: 'appsettings'
    properties: appSettings
  }

  // No publishing passwords: azd deploys with your Entra ID token.
  resource ftp 'basicPublishingCredentialsPolicies' = {
    name: 'ftp'
    properties: {
      allow: false
    }
  }

  resource scm 'basicPublishingCredentialsPolicies' = {
    name: 'scm'
    properties: {
      allow: false
    }
  }
}

output name string = functionApp.name
output url string = 'https://${functionApp.properties.defaultHostName}'
