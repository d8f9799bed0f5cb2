// App Service Authentication ("Easy Auth") with Microsoft Entra ID on the Function App.
// Deployed only when main.bicep's authClientId is set (docs/deploy.md "Sign-in with Microsoft Entra ID").
//
// What it changes for the app (docs/identity.md): App Service signs users in at /.auth/login/aad, removes every
// x-ms-client-principal* header a client sends, adds the signed-in user's (x-ms-client-principal-id is what the
// negotiate functions' userId binding expression reads) and sets WEBSITE_AUTH_ENABLED=True, which is what makes
// functions/_identity.py trust that header. Anonymous requests stay allowed: guests keep working, and the Web
// PubSub service must still reach /runtime/webhooks/socketio (it authenticates with the extension's key).
// No client secret: without one App Service uses the OpenID Connect implicit flow (ID tokens), so the app
// registration must allow ID token issuance; nothing secret lives in the template.

@description('Name of the existing Function App.')
param functionAppName string

@description('Application (client) id of the Entra app registration users sign in to.')
param clientId string

@description('Entra tenant of that app registration.')
param tenantId string

resource functionApp 'Microsoft.Web/sites@2023-12-01' existing = {
  name: functionAppName
}

resource authSettings 'Microsoft.Web/sites/config@2023-12-01' = {
  parent: functionApp
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: false
      unauthenticatedClientAction: 'AllowAnonymous'
    }
    httpSettings: {
      requireHttps: true
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: clientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenantId}/v2.0'
        }
      }
    }
    login: {
      tokenStore: {
        enabled: true
      }
    }
  }
}
