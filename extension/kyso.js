// kyso.js — the page library of Kyso (ký số). It asks the person's USB
// signing token, through Kyso, for a certificate, for signatures of hashes,
// and for signed documents (PDF, CMS, XML). It uses the Kyso browser
// extension when it is installed, and only otherwise the local agent's
// WebSocket (ws://127.0.0.1:28418/v1); it rejects with a KysoError whose
// .code is one of protocol v1's error codes, NOT_INSTALLED (neither answers)
// or LOCAL_NETWORK_BLOCKED (the browser kept the page from reaching Kyso).
//
//   import * as kyso from "kyso";
//   const cert = await kyso.getCertificate();
//   const signed = await kyso.signPdfFile(file, { certificateId: cert.certificateId });
//
// This file is the source of the npm package (extension/kyso-js/): its
// build embeds the messages (extension/messages.json) where the marker
// below stands, and makes a classic-script copy (window.kyso) and a
// CommonJS copy. The exports are written `export const|function|class|
// async function NAME` at the start of a line, which that build relies on.

/** The library's release (the same as Kyso's and the extension's). */
export const VERSION = "0.1.0";
/** The protocol version this library speaks. */
export const PROTOCOL = 1;
/** The agent's default WebSocket port. */
export const DEFAULT_PORT = 28418;

// The extension and the library are released together. An extension older
// than the library's MAJOR.MINOR lacks what that release added (progress
// relay, large answers in parts): the page is told (state
// "extension-outdated") and the extension is still used.
/** The oldest extension release this library works fully with. */
export const MIN_EXTENSION_VERSION = VERSION.split(/[.+-]/).slice(0, 2).join(".") + ".0";

// Error codes: protocol v1's (DESIGN "Errors") and kyso.js's own two.
const CODES = [
  "BAD_REQUEST", "UNKNOWN_OP", "ORIGIN_DENIED", "USER_CANCELLED", "TIMEOUT",
  "BUSY", "RATE_LIMITED", "NO_TOKEN", "NO_CERTIFICATE", "CERTIFICATE_NOT_FOUND",
  "UNSUPPORTED_ALGORITHM", "PIN_LOCKED", "TOKEN_REMOVED", "TOKEN_ERROR",
  "BAD_DOCUMENT", "TIMESTAMP_FAILED", "NO_DIALOG", "INTERNAL",
  "NOT_INSTALLED", "LOCAL_NETWORK_BLOCKED",
];

/** Every error code as a constant: `e.code === kyso.errors.USER_CANCELLED`. */
export const errors = Object.freeze(Object.fromEntries(CODES.map((c) => [c, c])));

/** What onStateChange reports. */
export const states = Object.freeze({
  /** The browser asks the person whether this page may reach apps on this device; kyso.js waits for the answer. */
  WAITING_FOR_BROWSER_PERMISSION: "waiting-for-browser-permission",
  /** The WebSocket to the agent is open (after the browser's prompt, when there was one). */
  CONNECTED: "connected",
  /** The extension answered but is older than MIN_EXTENSION_VERSION; it is still used. */
  EXTENSION_OUTDATED: "extension-outdated",
});

// ---- messages ---------------------------------------------------------------

// {"vi": {CODE: text}, "en": {CODE: text}}, from extension/messages.json
// (generated from Kyso's one message table), put here by the build. The
// unbuilt source has none and falls back to the code.
const MESSAGES = /*@kyso:messages*/ null /*@end*/;

/** "vi" for a Vietnamese locale, else "en"; default: the browser's language. */
export function language(lang) {
  const l = lang ?? (globalThis.navigator && globalThis.navigator.language) ?? "";
  return /^vi\b/i.test(String(l)) ? "vi" : "en";
}

/** The person-facing text of an error code, in Vietnamese or English. */
export function message(code, lang) {
  const table = MESSAGES && MESSAGES[language(lang)];
  return (table && table[code]) || (MESSAGES && MESSAGES.en[code]) || "Kyso: " + code;
}

/** An error answered by Kyso or found by kyso.js. Branch on .code only. */
export class KysoError extends Error {
  constructor(code, message, detail) {
    super(message || code);
    this.name = "KysoError";
    this.code = code;
    if (detail !== undefined) this.detail = detail;
  }
}

// own makes kyso.js's own errors: the message in the page's language, the
// technical reason in detail.
function own(code, detail, lang) {
  return new KysoError(code, message(code, lang), detail);
}

// ---- base64 and documents -----------------------------------------------------

// Standard base64 with padding. One flat character class (no nested
// repetition): a 64 MiB document's base64 must not exhaust the regexp stack.
const B64CHARS = /^[A-Za-z0-9+/]*={0,2}$/;
const isBase64 = (s) => typeof s === "string" && s.length % 4 === 0 && B64CHARS.test(s);

function bytesOf(input) {
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  return null;
}

/** Standard base64 (with padding) of bytes; a base64 string is checked and returned as is. */
export function toBase64(input) {
  if (typeof input === "string") {
    if (!isBase64(input)) throw own("BAD_REQUEST", "not standard base64 with padding");
    return input;
  }
  const bytes = bytesOf(input);
  if (!bytes) throw own("BAD_REQUEST", "expected a base64 string, a Uint8Array or an ArrayBuffer");
  if (typeof bytes.toBase64 === "function") return bytes.toBase64(); // ES2026, native
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/** Bytes of a base64 string (e.g. a signature or certificate from a result). */
export function fromBase64(s) {
  if (!isBase64(s)) throw own("BAD_REQUEST", "not standard base64 with padding");
  if (typeof Uint8Array.fromBase64 === "function") return Uint8Array.fromBase64(s); // ES2026, native
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

const isBlob = (x) => x != null && typeof x === "object" && typeof x.arrayBuffer === "function" && typeof x.size === "number";

/** Base64 of a File, a Blob, an ArrayBuffer or a Uint8Array (a base64 string is checked and returned). */
export async function readAsBase64(input) {
  return toBase64(isBlob(input) ? await input.arrayBuffer() : input);
}

/** A Blob of a result's base64 (a signed PDF, a .p7s), to download or upload. */
export function base64ToBlob(b64, type = "application/octet-stream") {
  return new Blob([fromBase64(b64)], { type });
}

// textOf reads an XML document given as text, a Blob or bytes (UTF-8).
async function textOf(input) {
  if (typeof input === "string") return input;
  const bytes = bytesOf(isBlob(input) ? await input.arrayBuffer() : input);
  if (!bytes) throw own("BAD_REQUEST", "xml must be a string, a Blob, a Uint8Array or an ArrayBuffer");
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw own("BAD_REQUEST", "xml is not UTF-8");
  }
}

const nameOf = (x) => (x && typeof x === "object" && typeof x.name === "string" && x.name ? x.name : undefined);

// ---- ids and answers ------------------------------------------------------------

const idPrefix = "k" + Math.random().toString(36).slice(2, 10) + "-";
let idCounter = 0;

/** A request id unique within the page (1–64 characters, as protocol v1 asks). */
export function nextId() {
  idCounter += 1;
  return idPrefix + idCounter;
}

/** The result of a protocol v1 response, or a KysoError for a failure. */
export function settle(resp, lang) {
  if (!resp || typeof resp !== "object") return { error: own("INTERNAL", "malformed answer from Kyso", lang) };
  if (resp.ok === true) return { result: resp.result };
  const e = resp.error && typeof resp.error === "object" ? resp.error : {};
  const code = typeof e.code === "string" && e.code ? e.code : "INTERNAL";
  // kyso.js owns NOT_INSTALLED (the extension reports it when its host is
  // missing): the same words as when nothing answers, the browser's reason
  // kept in detail.
  if (code === "NOT_INSTALLED") return { error: own(code, e.message || e.detail, lang) };
  const text = typeof e.message === "string" && e.message ? e.message : message(code, lang);
  return { error: new KysoError(code, text, e.detail) };
}

// The interim message {"id", "progress": {"done", "total"}} of a long
// operation (DESIGN "Long operations"), or null.
function progressOf(d) {
  const p = d && d.progress;
  if (!p || typeof p !== "object" || d.ok !== undefined) return null;
  return { done: Number(p.done) || 0, total: Number(p.total) || 0 };
}

// ---- versions ---------------------------------------------------------------------

/** -1, 0 or 1 as release a is older than, the same as, or newer than b (MAJOR.MINOR.PATCH, more parts ignored). */
export function compareVersions(a, b) {
  const parts = (v) => String(v).split(/[+-]/)[0].split(".").slice(0, 3).map((n) => parseInt(n, 10) || 0);
  const x = parts(a), y = parts(b);
  for (let i = 0; i < 3; i++) {
    const d = (x[i] || 0) - (y[i] || 0);
    if (d) return d < 0 ? -1 : 1;
  }
  return 0;
}

// ---- Local Network Access -------------------------------------------------------

// Chromium (142+) and Firefox (the gate is on by default in Chromium; Firefox
// 153 ESR gates WebSockets when network.lna.websocket.enabled is set) ask
// the person before a public https page may reach loopback. The permission
// that governs it: "loopback-network" (Chromium 146+, Firefox); Chromium's
// first releases knew only "local-network-access"; "local-network" is for
// LAN addresses, the last resort for a browser that knows nothing else. A
// browser that does not know a name throws from query().
/** Permission names tried, in order, for the page's right to reach loopback. */
export const LOOPBACK_PERMISSIONS = Object.freeze(["loopback-network", "local-network-access", "local-network"]);

// loopbackPermission reads the permission's state without asking the
// person: {name, state} with state "granted", "denied", "prompt" or
// "unsupported" (no Permissions API, or none of the names known).
function loopbackPermission(nav) {
  // A query never blocks a request: after a second, "unsupported".
  let timer;
  const late = new Promise((resolve) => {
    timer = setTimeout(() => resolve({ name: null, state: "unsupported" }), 1000);
  });
  return Promise.race([queryLoopback(nav), late]).finally(() => clearTimeout(timer));
}

async function queryLoopback(nav) {
  const p = nav && nav.permissions;
  if (!p || typeof p.query !== "function") return { name: null, state: "unsupported" };
  for (const name of LOOPBACK_PERMISSIONS) {
    try {
      const status = await p.query({ name });
      if (status && typeof status.state === "string") return { name, state: status.state };
    } catch {
      // This browser does not know the name: try the next.
    }
  }
  return { name: null, state: "unsupported" };
}

// frameBlocked tells whether this frame's permissions policy forbids
// reaching loopback: a cross-origin iframe needs allow="loopback-network"
// (Chromium fails its sockets at once, without a prompt).
function frameBlocked(win) {
  const doc = win && win.document;
  const policy = doc && (doc.permissionsPolicy || doc.featurePolicy);
  if (!policy || typeof policy.allowsFeature !== "function") return false;
  try {
    const known = typeof policy.features === "function" ? policy.features() : [];
    const name = LOOPBACK_PERMISSIONS.find((n) => known.includes(n));
    return name !== undefined && !policy.allowsFeature(name);
  } catch {
    return false;
  }
}

// ---- the client ---------------------------------------------------------------------

/**
 * createClient returns an independent client. Options:
 *  - port: the agent's WebSocket port (default 28418);
 *  - helloTimeout: ms to wait for the extension's hello-ack (default 300);
 *  - connectTimeout: ms for the WebSocket to open when the browser is not
 *    asking the person (default 3000);
 *  - waitingAfter: ms after which a socket that neither opened nor failed,
 *    on a page whose local-network permission is "prompt", counts as
 *    waiting for the browser's prompt (default 500); then there is no limit:
 *    the person answers the browser;
 *  - onStateChange(state, info): see `states`;
 *  - lang: "vi" or "en" for kyso.js's own messages (default: the browser's);
 *  - window, navigator, WebSocket: for tests.
 * There is no limit on an operation once sent: Kyso bounds its dialogs
 * (120 s each), a long batch sends progress, and a closed connection
 * rejects what it had pending.
 */
export function createClient(options = {}) {
  const o = {
    port: DEFAULT_PORT,
    helloTimeout: 300,
    connectTimeout: 3000,
    waitingAfter: 500,
    window: globalThis.window,
    navigator: globalThis.navigator,
    WebSocket: globalThis.WebSocket,
    ...options,
  };
  const win = o.window;
  const lang = () => o.lang;
  const watchers = new Set();
  if (typeof o.onStateChange === "function") watchers.add(o.onStateChange);

  function emit(state, info = {}) {
    for (const fn of [...watchers]) {
      try {
        fn(state, info);
      } catch {
        // A page's handler must not break the request.
      }
    }
  }

  // Extension path --------------------------------------------------------
  let extension = null; // Promise<{version, outdated, required} | null>, asked once
  const extPending = new Map(); // id → {resolve, onProgress}
  let listening = false;

  function selfTarget() {
    const origin = win.origin || (win.location && win.location.origin);
    return origin && origin !== "null" ? origin : "*";
  }

  const ack = { fn: null };
  function listen() {
    if (listening) return;
    listening = true;
    win.addEventListener("message", (event) => {
      if (event.source !== win) return; // only the content script, which posts to this window
      const d = event.data;
      if (!d || typeof d !== "object") return;
      if (d.kyso === "hello-ack") {
        if (ack.fn) ack.fn(d);
        return;
      }
      if (d.kyso !== "response" && d.kyso !== "progress") return;
      const p = extPending.get(d.id);
      if (!p) return;
      const progress = progressOf(d);
      if (progress) {
        p.progress(progress);
        return;
      }
      if (d.ok === undefined && d.part !== undefined) {
        // An extension that does not join large answers (older than the
        // one this library needs) passed on the first part.
        extPending.delete(d.id);
        p.resolve({ id: d.id, ok: false, error: { code: "INTERNAL",
          message: message("INTERNAL", lang()), detail: "the Kyso extension is too old for this answer; update it" } });
        return;
      }
      if (d.ok === undefined) return;
      extPending.delete(d.id);
      p.resolve(d);
    });
  }

  function hasExtension() {
    if (!win || typeof win.postMessage !== "function" || typeof win.addEventListener !== "function") {
      return Promise.resolve(null);
    }
    if (!extension) {
      extension = new Promise((resolve) => {
        const timer = setTimeout(() => {
          ack.fn = null;
          resolve(null);
        }, o.helloTimeout);
        ack.fn = (d) => {
          clearTimeout(timer);
          ack.fn = null;
          const version = typeof d.version === "string" ? d.version : "0.0.0";
          const info = { version, required: MIN_EXTENSION_VERSION,
            outdated: compareVersions(version, MIN_EXTENSION_VERSION) < 0 };
          if (info.outdated) emit(states.EXTENSION_OUTDATED, { ...info });
          resolve(info);
        };
        listen();
        win.postMessage({ kyso: "hello" }, selfTarget());
      });
    }
    return extension;
  }

  function viaExtension(req, onProgress) {
    return new Promise((resolve) => {
      extPending.set(req.id, { resolve, progress: onProgress });
      try {
        win.postMessage({ kyso: "request", id: req.id, op: req.op, params: req.params }, selfTarget());
      } catch (e) {
        // Not cloneable (a function or a DOM node in the parameters).
        extPending.delete(req.id);
        resolve({ id: req.id, ok: false, error: { code: "BAD_REQUEST", message: message("BAD_REQUEST", lang()), detail: String(e && e.message) } });
      }
    });
  }

  // WebSocket path --------------------------------------------------------
  let ws = null; // the one open (or opening) socket: Promise<WebSocket>
  const wsPending = new Map(); // id → {id, resolve, progress}

  function onSocketMessage(event) {
    let resp;
    try {
      resp = JSON.parse(event.data);
    } catch {
      return;
    }
    if (!resp || typeof resp !== "object") return;
    let p = wsPending.get(resp.id);
    // An answer to a request that could not be parsed has id "": it is
    // the one pending request's when there is only one.
    if (!p && resp.id === "" && wsPending.size === 1) p = wsPending.values().next().value;
    if (!p) return;
    const progress = progressOf(resp);
    if (progress) {
      p.progress(progress);
      return;
    }
    wsPending.delete(p.id);
    p.resolve(resp);
  }

  // whyFailed names a socket that closed before it opened. A browser that
  // blocks the page and an agent that is not running look the same to the
  // page (close 1006 within milliseconds), so the permission state and the
  // frame's policy tell them apart; a prompt that was open and closed
  // without "Allow" leaves the state at "prompt".
  async function whyFailed(waited) {
    const url = `ws://127.0.0.1:${o.port}/v1`;
    if (frameBlocked(win)) {
      return own("LOCAL_NETWORK_BLOCKED", `this frame may not reach ${url}: the <iframe> needs allow="loopback-network"`, lang());
    }
    const perm = await loopbackPermission(o.navigator);
    if (perm.state === "denied") {
      return own("LOCAL_NETWORK_BLOCKED", `the browser's "${perm.name}" permission is denied for this site`, lang());
    }
    if (waited && perm.state !== "granted") {
      return own("LOCAL_NETWORK_BLOCKED", "the browser's prompt to reach apps on this device closed without Allow", lang());
    }
    return own("NOT_INSTALLED", `neither the Kyso extension nor the agent at ${url} answered`, lang());
  }

  let generation = 0; // which connect() the current ws is
  async function connect() {
    const gen = ++generation;
    if (typeof o.WebSocket !== "function") throw own("NOT_INSTALLED", "no Kyso extension and no WebSocket in this browser", lang());
    const perm = await loopbackPermission(o.navigator);
    return new Promise((resolve, reject) => {
      let s;
      try {
        s = new o.WebSocket(`ws://127.0.0.1:${o.port}/v1`);
      } catch (e) {
        reject(own("NOT_INSTALLED", "the WebSocket could not be created: " + (e && e.message), lang()));
        return;
      }
      let done = false;
      let waited = false;
      const stop = () => {
        done = true;
        clearTimeout(slow);
        clearTimeout(limit);
      };
      const limit = setTimeout(() => {
        if (done) return;
        stop();
        try {
          s.close();
        } catch {
          // already closing
        }
        reject(own("NOT_INSTALLED", `the agent at ws://127.0.0.1:${o.port}/v1 did not answer within ${o.connectTimeout} ms`, lang()));
      }, o.connectTimeout);
      // Neither open nor failed: when the browser may be asking the person,
      // say so and wait for the answer, however long it takes.
      const slow = setTimeout(() => {
        if (done || perm.state !== "prompt") return;
        waited = true;
        clearTimeout(limit);
        emit(states.WAITING_FOR_BROWSER_PERMISSION, { permission: perm.name });
      }, Math.min(o.waitingAfter, o.connectTimeout));
      s.onopen = () => {
        if (done) return;
        stop();
        emit(states.CONNECTED, { port: o.port });
        resolve(s);
      };
      const failed = () => {
        if (done) return;
        stop();
        whyFailed(waited).then(reject, reject);
      };
      s.onerror = failed;
      s.onmessage = onSocketMessage;
      s.onclose = () => {
        failed();
        // Reconnect on the next request; what was pending is lost with it.
        if (gen === generation) ws = null;
        for (const p of wsPending.values()) {
          p.resolve({ id: p.id, ok: false, error: { code: "INTERNAL", message: message("INTERNAL", lang()), detail: "the connection to Kyso closed" } });
        }
        wsPending.clear();
      };
    });
  }

  function socket() {
    if (ws) return ws;
    const p = connect();
    p.catch(() => {
      if (ws === p) ws = null; // the next request tries again
    });
    ws = p;
    return p;
  }

  async function viaWebSocket(req, onProgress) {
    const s = await socket();
    return new Promise((resolve) => {
      wsPending.set(req.id, { id: req.id, resolve, progress: onProgress });
      s.send(JSON.stringify(req));
    });
  }

  // One request, on the path there is ----------------------------------------
  async function call(op, params, onProgress) {
    const req = { id: nextId(), op, params };
    const progress = (p) => {
      if (typeof onProgress !== "function") return;
      try {
        onProgress(p);
      } catch {
        // A page's handler must not break the request.
      }
    };
    // An installed extension is always the path, never the WebSocket: any
    // program may hold the agent's port, the extension's host is Kyso's.
    const resp = (await hasExtension()) ? await viaExtension(req, progress) : await viaWebSocket(req, progress);
    const { result, error } = settle(resp, lang());
    if (error) throw error;
    return result;
  }

  // Operations -------------------------------------------------------------------
  const split = (p, ...required) => {
    if (!p || typeof p !== "object") throw own("BAD_REQUEST", "parameters must be an object", lang());
    const { onProgress, ...params } = p;
    for (const key of required) need(params, key);
    return { params, onProgress };
  };
  const need = (p, key) => {
    if (!p || typeof p !== "object" || p[key] === undefined) throw own("BAD_REQUEST", key + " is required", lang());
    return p[key];
  };
  const oneOf = (p, a, b) => {
    if ((p[a] === undefined) === (p[b] === undefined)) throw own("BAD_REQUEST", `give ${a} or ${b}, not both or neither`, lang());
    return p[a] !== undefined ? a : b;
  };
  const list = (p, key) => {
    if (!Array.isArray(p[key])) throw own("BAD_REQUEST", key + " must be an array", lang());
    return p[key];
  };

  async function hashParams(op, p) {
    const { params, onProgress } = split(p, "certificateId", "hashFunction");
    if (op === "sign") params.hash = toBase64(need(params, "hash"));
    else if (op === "signBatch") params.hashes = list(params, "hashes").map(toBase64);
    else if (oneOf(params, "hash", "hashes") === "hash") params.hash = toBase64(params.hash);
    else params.hashes = list(params, "hashes").map(toBase64);
    return call(op, params, onProgress);
  }

  async function pdfDoc(d) {
    const out = { ...d, pdf: await readAsBase64(need(d, "pdf")) };
    if (out.fileName === undefined && nameOf(d.pdf)) out.fileName = nameOf(d.pdf);
    if (d.stamp && typeof d.stamp === "object" && d.stamp.image !== undefined) {
      out.stamp = { ...d.stamp, image: await readAsBase64(d.stamp.image) };
    }
    return out;
  }

  async function xmlDoc(d) {
    const out = { ...d, xml: await textOf(need(d, "xml")) };
    if (out.fileName === undefined && nameOf(d.xml)) out.fileName = nameOf(d.xml);
    return out;
  }

  // documentParams converts a document operation's one document or its
  // documents list (1–100, checked by Kyso).
  async function documentOp(op, key, convert, p) {
    const { params, onProgress } = split(p, "certificateId");
    let out;
    if (oneOf(params, key, "documents") === key) out = await convert(params);
    else out = { ...params, documents: await Promise.all(list(params, "documents").map(convert)) };
    return call(op, out, onProgress);
  }

  const signPdf = (p) => documentOp("signPdf", "pdf", pdfDoc, p);
  const signXml = (p) => documentOp("signXml", "xml", xmlDoc, p);
  const signCms = (p) => hashParams("signCms", p);

  return {
    /** {version, protocol, ops}; no dialog. */
    version: () => call("version", {}),
    /** The certificate the person picks: {certificate, certificateId, subject, …}. */
    getCertificate: (opts = {}) => call("getCertificate", opts && opts.filter ? { filter: opts.filter } : {}),
    /** {signature, scheme, hashFunction} for one hash. */
    sign: (p) => hashParams("sign", p),
    /** {signatures: [...]} for 1–1000 hashes, in order, with one dialog and one PIN. */
    signBatch: (p) => hashParams("signBatch", p),
    /** A signed PDF (PAdES): {pdf} or, for documents, {documents: [{pdf}]}; base64. */
    signPdf,
    /** A detached CMS (CAdES-BES) of a hash: {cms}, or {cmsList} for hashes. */
    signCms,
    /** A signed XML (enveloped XML-DSig): {xml} or {documents: [{xml}]}. */
    signXml,
    /** signPdf of one file; the signed PDF as a Blob. */
    signPdfFile: async (file, opts = {}) => {
      const r = await signPdf({ ...opts, pdf: file });
      return base64ToBlob(r.pdf, "application/pdf");
    },
    /** signXml of one file; the signed XML as a Blob. */
    signXmlFile: async (file, opts = {}) => {
      const r = await signXml({ ...opts, xml: file });
      return new Blob([r.xml], { type: "application/xml" });
    },
    /** signCms of one file's digest (computed here; SHA-256 unless hashFunction says); the .p7s as a Blob. */
    signCmsFile: async (file, opts = {}) => {
      const hashFunction = opts.hashFunction || "SHA-256";
      if (!/^SHA-(256|384|512)$/.test(hashFunction)) throw own("BAD_REQUEST", "signCmsFile hashes with SHA-256, SHA-384 or SHA-512", lang());
      const bytes = isBlob(file) ? await file.arrayBuffer() : bytesOf(file);
      if (!bytes) throw own("BAD_REQUEST", "expected a File, a Blob, a Uint8Array or an ArrayBuffer", lang());
      const hash = new Uint8Array(await globalThis.crypto.subtle.digest(hashFunction, bytes));
      const params = { ...opts, hash, hashFunction };
      if (params.fileName === undefined && nameOf(file)) params.fileName = nameOf(file);
      const r = await signCms(params);
      return base64ToBlob(r.cms, "application/pkcs7-signature");
    },
    /**
     * What can be known without touching the network (no WebSocket is
     * opened, no prompt shown): the extension (or null) and the state of the
     * browser's local-network permission.
     */
    detect: async () => {
      const ext = await hasExtension();
      const perm = await loopbackPermission(o.navigator);
      return {
        extension: ext ? { ...ext } : null,
        localNetworkAccess: perm.state,
        permission: perm.name,
        frameAllowed: !frameBlocked(win),
      };
    },
    /** Calls fn(state, info) on each change (see `states`); returns a function that stops it. */
    onStateChange: (fn) => {
      watchers.add(fn);
      return () => watchers.delete(fn);
    },
    /** Close the WebSocket, if one is open. */
    close: async () => {
      const w = ws;
      ws = null;
      if (w) (await w.catch(() => null))?.close();
    },
  };
}

// ---- the default client -------------------------------------------------------

let defaultClient = null;
const client = () => (defaultClient ??= createClient());

export const version = () => client().version();
export const getCertificate = (opts) => client().getCertificate(opts);
export const sign = (p) => client().sign(p);
export const signBatch = (p) => client().signBatch(p);
export const signPdf = (p) => client().signPdf(p);
export const signCms = (p) => client().signCms(p);
export const signXml = (p) => client().signXml(p);
export const signPdfFile = (file, opts) => client().signPdfFile(file, opts);
export const signXmlFile = (file, opts) => client().signXmlFile(file, opts);
export const signCmsFile = (file, opts) => client().signCmsFile(file, opts);
export const detect = () => client().detect();
export const onStateChange = (fn) => client().onStateChange(fn);
