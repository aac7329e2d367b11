// kyso.js — the page library of Kyso (ký số). It asks the user's USB signing
// token, through Kyso, for a certificate and for signatures of hashes. It
// tries the Kyso browser extension first, then the local agent's WebSocket
// (ws://127.0.0.1:28418/v1), and rejects with a KysoError whose .code is one
// of protocol v1's error codes, or NOT_INSTALLED when neither answers.
//
//   import * as kyso from "./kyso.js";
//   const cert = await kyso.getCertificate();
//   const { signature } = await kyso.sign({ certificateId: cert.certificateId,
//     hash: digestBytes, hashFunction: "SHA-256" });
//
// Binary values are standard base64 strings in results; hash inputs may be
// base64 strings, Uint8Array, ArrayBuffer or any ArrayBuffer view.

export const DEFAULT_PORT = 28418;
export const PROTOCOL = 1;

/** An error answered by Kyso (or NOT_INSTALLED). Branch on .code only. */
export class KysoError extends Error {
  constructor(code, message, detail) {
    super(message || code);
    this.name = "KysoError";
    this.code = code;
    if (detail !== undefined) this.detail = detail;
  }
}

// ---- base64 ---------------------------------------------------------------

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Standard base64 (with padding) of bytes; a base64 string is checked and returned as is. */
export function toBase64(input) {
  if (typeof input === "string") {
    if (!B64.test(input)) throw new KysoError("BAD_REQUEST", "not standard base64 with padding");
    return input;
  }
  let bytes;
  if (input instanceof ArrayBuffer) bytes = new Uint8Array(input);
  else if (ArrayBuffer.isView(input)) bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  else throw new KysoError("BAD_REQUEST", "expected a base64 string, a Uint8Array or an ArrayBuffer");
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/** Bytes of a base64 string (e.g. a signature or certificate from a result). */
export function fromBase64(s) {
  if (typeof s !== "string" || !B64.test(s)) throw new KysoError("BAD_REQUEST", "not standard base64 with padding");
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

// ---- ids and errors ---------------------------------------------------------

const idPrefix = "k" + Math.random().toString(36).slice(2, 10) + "-";
let idCounter = 0;

/** A request id unique within the page (1–64 characters, as protocol v1 asks). */
export function nextId() {
  idCounter += 1;
  return idPrefix + idCounter;
}

/** The result of a protocol v1 response, or a KysoError for a failure. */
export function settle(resp) {
  if (!resp || typeof resp !== "object") return { error: new KysoError("INTERNAL", "malformed answer from Kyso") };
  if (resp.ok === true) return { result: resp.result };
  const e = resp.error && typeof resp.error === "object" ? resp.error : {};
  const code = typeof e.code === "string" && e.code ? e.code : "INTERNAL";
  return { error: new KysoError(code, typeof e.message === "string" ? e.message : code, e.detail) };
}

// ---- the client -------------------------------------------------------------

/**
 * createClient returns an independent client. Options: port (WebSocket port,
 * default 28418), helloTimeout (ms to wait for the extension, default 300),
 * connectTimeout (ms for the WebSocket to open, default 3000), and, for
 * tests, window and WebSocket implementations.
 */
export function createClient(options = {}) {
  const o = {
    port: DEFAULT_PORT,
    helloTimeout: 300,
    connectTimeout: 3000,
    window: globalThis.window,
    WebSocket: globalThis.WebSocket,
    ...options,
  };
  const win = o.window;

  // Extension path --------------------------------------------------------
  let extension = null; // Promise<boolean>, asked once per client
  let hostMissing = false; // the extension answered NOT_INSTALLED: its host is missing
  const extPending = new Map(); // id → {resolve}
  let listening = false;

  function selfTarget() {
    const origin = win.origin || (win.location && win.location.origin);
    return origin && origin !== "null" ? origin : "*";
  }

  function listen(onAck) {
    if (listening) return;
    listening = true;
    win.addEventListener("message", (event) => {
      if (event.source !== win) return; // only the content script, which posts to this window
      const d = event.data;
      if (!d || typeof d !== "object") return;
      if (d.kyso === "hello-ack") onAck.fn && onAck.fn(d);
      else if (d.kyso === "response") {
        const p = extPending.get(d.id);
        if (p) {
          extPending.delete(d.id);
          p.resolve(d);
        }
      }
    });
  }

  const ack = { fn: null };
  function hasExtension() {
    if (!win || typeof win.postMessage !== "function") return Promise.resolve(false);
    if (!extension) {
      extension = new Promise((resolve) => {
        const timer = setTimeout(() => { ack.fn = null; resolve(false); }, o.helloTimeout);
        ack.fn = () => { clearTimeout(timer); ack.fn = null; resolve(true); };
        listen(ack);
        win.postMessage({ kyso: "hello" }, selfTarget());
      });
    }
    return extension;
  }

  function viaExtension(req) {
    return new Promise((resolve) => {
      extPending.set(req.id, { resolve });
      win.postMessage({ kyso: "request", id: req.id, op: req.op, params: req.params }, selfTarget());
    });
  }

  // WebSocket path --------------------------------------------------------
  let ws = null; // the one open (or opening) socket: Promise<WebSocket>
  const wsPending = new Map(); // id → {resolve}

  function socket() {
    if (ws) return ws;
    const mine = new Promise((resolve, reject) => {
      if (typeof o.WebSocket !== "function") {
        reject(new KysoError("NOT_INSTALLED", "Kyso is not installed (no extension, no WebSocket)"));
        return;
      }
      let s;
      try {
        s = new o.WebSocket(`ws://127.0.0.1:${o.port}/v1`);
      } catch (e) {
        reject(new KysoError("NOT_INSTALLED", "Kyso agent unreachable: " + e.message));
        return;
      }
      let open = false;
      const timer = setTimeout(() => {
        try { s.close(); } catch { /* already closing */ }
        fail();
      }, o.connectTimeout);
      const fail = () => {
        clearTimeout(timer);
        if (!open) reject(new KysoError("NOT_INSTALLED", "Kyso is not installed or not running"));
      };
      s.onopen = () => {
        open = true;
        clearTimeout(timer);
        resolve(s);
      };
      s.onerror = fail;
      s.onmessage = (event) => {
        let resp;
        try { resp = JSON.parse(event.data); } catch { return; }
        let p = wsPending.get(resp && resp.id);
        if (!p && resp && resp.id === "" && wsPending.size === 1) p = wsPending.get([...wsPending.keys()][0]);
        if (!p) return;
        wsPending.delete(p.id);
        p.resolve(resp);
      };
      s.onclose = () => {
        fail();
        // Reconnect on the next request; what was pending is lost with it.
        if (ws === mine) ws = null;
        for (const p of wsPending.values()) {
          p.resolve({ id: p.id, ok: false, error: { code: "INTERNAL", message: "the connection to Kyso closed" } });
        }
        wsPending.clear();
      };
    });
    mine.catch(() => { if (ws === mine) ws = null; }); // the next request tries again
    ws = mine;
    return mine;
  }

  async function viaWebSocket(req) {
    const s = await socket();
    return new Promise((resolve) => {
      wsPending.set(req.id, { id: req.id, resolve });
      s.send(JSON.stringify(req));
    });
  }

  // One request, on whichever path answers -----------------------------------
  async function call(op, params) {
    const req = { id: nextId(), op, params };
    let resp;
    if (!hostMissing && (await hasExtension())) {
      resp = await viaExtension(req);
      const code = resp && resp.ok === false && resp.error && resp.error.code;
      if (code !== "NOT_INSTALLED") return unwrap(resp);
      // The extension is there but its native host is not: the agent may
      // still run, so try its WebSocket (now and from now on).
      hostMissing = true;
    }
    resp = await viaWebSocket(req);
    return unwrap(resp);
  }

  function unwrap(resp) {
    const { result, error } = settle(resp);
    if (error) throw error;
    return result;
  }

  return {
    /** {version, protocol}; no dialog. */
    version: () => call("version", {}),
    /** The certificate the user picks: {certificate, certificateId, subject, …}. */
    getCertificate: (opts = {}) => call("getCertificate", opts && opts.filter ? { filter: opts.filter } : {}),
    /** {signature, scheme, hashFunction} for one hash. */
    sign: async (p) => call("sign", signParams(p, { hash: toBase64(need(p, "hash")) })),
    /** {signatures: [...]} for 1–1000 hashes, in order, with one dialog and one PIN. */
    signBatch: async (p) => {
      const hashes = need(p, "hashes");
      if (!Array.isArray(hashes)) throw new KysoError("BAD_REQUEST", "hashes must be an array");
      return call("signBatch", signParams(p, { hashes: hashes.map(toBase64) }));
    },
    /** Close the WebSocket, if one is open. */
    close: async () => {
      const w = ws;
      ws = null;
      if (w) (await w.catch(() => null))?.close();
    },
  };
}

function need(p, key) {
  if (!p || typeof p !== "object" || p[key] === undefined) throw new KysoError("BAD_REQUEST", key + " is required");
  return p[key];
}

function signParams(p, extra) {
  const params = { certificateId: need(p, "certificateId"), hashFunction: need(p, "hashFunction"), ...extra };
  if (p.scheme !== undefined) params.scheme = p.scheme;
  if (p.description !== undefined) params.description = p.description;
  return params;
}

// ---- the default client -------------------------------------------------------

let defaultClient = null;
const client = () => (defaultClient ??= createClient());

export const version = () => client().version();
export const getCertificate = (opts) => client().getCertificate(opts);
export const sign = (p) => client().sign(p);
export const signBatch = (p) => client().signBatch(p);
