// Azure Web PubSub for Socket.IO in serverless mode: the service holds the client connections and
// calls the Function App's /runtime/webhooks/socketio for connect, events and disconnect.
// Local (access-key) auth is disabled: the Function App calls the data plane with its identity,
// which holds Web PubSub Service Owner (app/rbac.bicep). Hubs are configured after code deploy by
// scripts/postdeploy.sh, because their URL needs the function's socketio_extension system key.
param name string
param location string
param tags object

@allowed([
  'Free_F1'
  'Standard_S1'
  'Premium_P1'
])
param sku string

resource socketio 'Microsoft.SignalRService/webPubSub@2024-03-01' = {
  name: name
  location: location
  tags: tags
  kind: 'SocketIO'
  sku: {
    name: sku
    capacity: 1
  }
  properties: {
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
    socketIO: {
      serviceMode: 'Serverless'
    }
  }
}

output name string = socketio.name
output hostName string = socketio.properties.hostName
