// sioless connect helper: negotiate, then connect with the stock socket.io-client; negotiate again before
// every reconnection attempt (tokens expire, and a restarted service wants a fresh one). docs/migration.md
// "Clients" documents it.
//
//   Browser (plain script, after the socket.io-client bundle):
//     <script src="/api/pages/vendor/socket.io.min.js"></script>
//     <script src="/api/pages/sioless.js"></script>
//     const socket = sioless.socket("/api/chat/negotiate?userId=alice");        // synchronous form
//     const socket = await sioless.connect("/api/chat/negotiate?userId=alice"); // resolves once connected
//   Node (CommonJS, or ES modules through the default export):
//     const sioless = require("./web/sioless.js");      import sioless from "./web/sioless.js";
//
// Everything else is socket.io-client's own API: `socket.on("connect", ...)` runs after the first connection
// AND after every reconnection (re-join rooms there), `connect_error` reports a refusal. Tested against
// socket.io-client 4.8 (tests/node/connect_helper.mjs).
(function (root, factory) {
  "use strict";
  if (typeof module === "object" && module.exports) {
    // eslint-disable-next-line global-require
    module.exports = factory(() => require("socket.io-client").io);
  } else {
    root.sioless = factory(() => root.io);
  }
})(typeof self !== "undefined" ? self : this, function (defaultIo) {
  "use strict";

  /** A location to resolve relative negotiate URLs against (the page in a browser). */
  function base() {
    return typeof location !== "undefined" ? location.href : undefined;
  }

  /**
   * GET the negotiate route and return {endpoint, path, token}. Throws an Error naming the route and the
   * HTTP status (or what is missing from the answer).
   */
  async function negotiate(url, fetchImpl) {
    const doFetch = fetchImpl || globalThis.fetch;
    if (typeof doFetch !== "function") throw new Error("sioless: no fetch() available; pass options.fetch");
    const response = await doFetch(String(url), { headers: { accept: "application/json" }, credentials: "same-origin" });
    if (!response.ok) {
      // The samples answer {"error": "..."} (e.g. 429: negotiating too often): pass the reason on.
      const reason = await response.json().then((body) => (body && typeof body.error === "string" ? `: ${body.error}` : ""), () => "");
      throw new Error(`sioless: negotiate ${url} answered HTTP ${response.status}${reason}`);
    }
    const result = await response.json();
    for (const key of ["endpoint", "path", "token"]) {
      if (typeof result[key] !== "string" || !result[key]) {
        throw new Error(`sioless: negotiate ${url} answered without '${key}' (expected {endpoint, path, token})`);
      }
    }
    return result;
  }

  /**
   * The synchronous form: a socket.io-client Socket, returned at once. It negotiates and connects in the
   * background (unless options.autoConnect === false: then call socket.connect()).
   *
   * @param {string | URL | (() => Promise<{endpoint: string, path: string, token: string}>)} negotiateWith
   *   the negotiate route (relative URLs resolve against the page), or a function that negotiates.
   * @param {object} [options] socket.io-client options, plus `namespace` (default "/"), `io` (the
   *   socket.io-client `io` function; default: the global one in a browser, require("socket.io-client") in node)
   *   and `fetch`.
   */
  function socket(negotiateWith, options = {}) {
    const { namespace = "/", io: ioOption, fetch: fetchOption, autoConnect = true, ...ioOptions } = options;
    const io = ioOption || defaultIo();
    if (typeof io !== "function") {
      throw new Error("sioless: socket.io-client is not loaded; add its <script> before sioless.js or pass options.io");
    }
    if (typeof namespace !== "string" || !namespace.startsWith("/")) {
      throw new Error(`sioless: namespace must start with '/', got ${JSON.stringify(namespace)}`);
    }
    let fetchNegotiation;
    let placeholder;
    if (typeof negotiateWith === "function") {
      fetchNegotiation = negotiateWith;
      placeholder = base() || "http://localhost";
    } else {
      const url = new URL(String(negotiateWith), base());
      fetchNegotiation = () => negotiate(url, fetchOption);
      placeholder = url.origin;
    }
    // The endpoint is known only after negotiating: the Manager gets a placeholder URL that every open replaces.
    const created = io(new URL(namespace, placeholder).href, { ...ioOptions, autoConnect: false, forceNew: true });
    const manager = created.io;
    const open = manager.open;
    let negotiating = false;

    // Manager.open (alias connect) opens one Engine.IO connection: the first one, and each reconnection attempt
    // (the Manager's own backoff calls it). Negotiate first, then open with the fresh endpoint, path and token.
    function negotiatedOpen(fn) {
      if (negotiating) return manager;
      if (typeof manager._readyState === "string" && manager._readyState.indexOf("open") !== -1) {
        return open.call(manager, fn); // already open or opening: nothing to negotiate
      }
      negotiating = true;
      Promise.resolve()
        .then(() => fetchNegotiation())
        .then(
          (negotiation) => {
            negotiating = false;
            if (!created.active) return; // the page closed the socket meanwhile
            manager.uri = negotiation.endpoint;
            manager.opts.path = negotiation.path;
            manager.opts.query = { ...(manager.opts.query || {}), access_token: negotiation.token };
            open.call(manager, fn);
          },
          (err) => {
            negotiating = false;
            if (!created.active) return;
            const error = err instanceof Error ? err : new Error(String(err));
            // What Manager.open does when the transport fails: `connect_error` on the socket, and (first
            // connection) the Manager's reconnection; a reconnection attempt retries with backoff via fn.
            manager.emitReserved("error", error);
            if (fn) fn(error);
            else manager.maybeReconnectOnOpen();
          },
        );
      return manager;
    }
    manager.open = manager.connect = negotiatedOpen;
    if (autoConnect) created.connect();
    return created;
  }

  /**
   * Negotiate and connect; resolves with the connected Socket, rejects with the first `connect_error`
   * (a refusal by the app's connect handler, or a failed negotiation) and closes the socket then.
   * Reconnection (with a fresh negotiation each attempt) stays on for the socket's whole life.
   */
  function connect(negotiateWith, options = {}) {
    const created = socket(negotiateWith, { ...options, autoConnect: false });
    return new Promise((resolve, reject) => {
      const onConnect = () => {
        created.off("connect_error", onError);
        resolve(created);
      };
      const onError = (err) => {
        created.off("connect", onConnect);
        created.close();
        reject(err);
      };
      created.once("connect", onConnect);
      created.once("connect_error", onError);
      created.connect();
    });
  }

  return { connect, negotiate, socket };
});
