// A real socket.io-client 4.8 driven by the emulator's tests. One JSON argument:
// {url, path, token, namespace, transports, emit: {event, args}, waitEvent, waitUpgrade, stayMs}
// Prints one JSON object per line: connect / connect_error / ack / event / transport / disconnect.
import { io } from 'socket.io-client';

const cfg = JSON.parse(process.argv[2]);
const out = (o) => console.log(JSON.stringify(o));
const opts = { path: cfg.path, reconnection: false, timeout: 8000, query: cfg.token ? { access_token: cfg.token } : {} };
if (cfg.transports) opts.transports = cfg.transports;
const socket = io(cfg.url + (cfg.namespace || ''), opts);
const done = (code = 0) => { socket.disconnect(); setTimeout(() => process.exit(code), 50); };
setTimeout(() => { out({ type: 'timeout' }); done(3); }, cfg.timeoutMs || 15000);

socket.on('connect_error', (err) => {
  out({ type: 'connect_error', message: err.message, description: String(err.description?.message ?? err.description ?? '') });
  done(0);
});
socket.on('disconnect', (reason) => { out({ type: 'disconnect', reason }); if (cfg.waitDisconnect) done(0); });
if (cfg.waitEvent) socket.on(cfg.waitEvent, (...args) => { out({ type: 'event', event: cfg.waitEvent, args }); if (!cfg.waitDisconnect) done(0); });

socket.on('connect', async () => {
  out({ type: 'connect', id: socket.id, transport: socket.io.engine.transport.name });
  if (cfg.waitUpgrade && socket.io.engine.transport.name !== 'websocket') {
    await new Promise((resolve) => socket.io.engine.once('upgrade', resolve));
  }
  if (cfg.emit) {
    try {
      const ack = await socket.timeout(5000).emitWithAck(cfg.emit.event, ...(cfg.emit.args || []));
      out({ type: 'ack', ack });
    } catch (err) {
      out({ type: 'ack_error', message: err.message });
    }
  }
  out({ type: 'transport', name: socket.io.engine.transport.name });
  if (cfg.waitEvent || cfg.waitDisconnect) { out({ type: 'ready' }); return; }
  done(0);
});
