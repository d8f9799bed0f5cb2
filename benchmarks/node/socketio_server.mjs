// Node's socket.io 4 as a baseline server for the benchmarks (docs/performance.md): the same minimal app as the
// python-socketio baseline. Usage: node benchmarks/node/socketio_server.mjs PORT
//   GET  /negotiate -> {endpoint, path, token: ""}      (what the clients dial)
//   POST /emit      -> io.emit("news", ...) then 202     (the fan-out trigger)
//   "join"(room)    -> socket.join(room), ack {ok: true}
//   "message"(room, text) -> io.to(room).emit("message", {text}), ack {ok: true}
// Prints "READY <port>" once listening.
import { createServer } from "node:http";
import { Server } from "socket.io";

const port = Number(process.argv[2] || 0);
const PATH = "/clients/socketio/hubs/chat";
const NEWS = { n: 1, text: "hello everyone" };

const http = createServer((req, res) => {
  if (req.url.startsWith("/negotiate")) {
    const body = JSON.stringify({ endpoint: `http://127.0.0.1:${http.address().port}`, path: PATH, token: "" });
    res.writeHead(200, { "content-type": "application/json" }).end(body);
  } else if (req.url.startsWith("/emit") && req.method === "POST") {
    io.emit("news", NEWS);
    res.writeHead(202).end();
  } else if (!req.url.startsWith(PATH)) {
    res.writeHead(404).end();
  }
});
const io = new Server(http, { path: PATH, serveClient: false, perMessageDeflate: false, maxHttpBufferSize: 1e6 });
io.on("connection", (socket) => {
  socket.on("join", (room, ack) => {
    socket.join(room);
    if (typeof ack === "function") ack({ ok: true });
  });
  socket.on("message", (room, text, ack) => {
    io.to(room).emit("message", { text });
    if (typeof ack === "function") ack({ ok: true });
  });
});
http.listen(port, "127.0.0.1", () => console.log(`READY ${http.address().port}`));
