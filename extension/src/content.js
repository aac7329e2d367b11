// Kyso content script: the page's door to the extension. It runs in every
// https frame (and http://localhost / 127.0.0.1 for local development),
// takes only messages a frame posts to itself, and passes requests to the
// background, which adds the frame's origin as the browser reports it.
"use strict";

(() => {
  const api = globalThis.browser ?? globalThis.chrome;
  let port = null; // one port per frame, opened on the first request
  const pending = new Set(); // request ids waiting on the background
  const joining = new Map(); // id → pieces of an answer too large for one extension message

  // Answers go to this frame's window only; the target origin guards
  // against the frame having navigated elsewhere meanwhile. An opaque
  // origin cannot be named, and gets nothing but ORIGIN_DENIED anyway.
  function reply(msg) {
    const target = window.origin && window.origin !== "null" ? window.origin : "*";
    window.postMessage(msg, target);
  }

  function connect() {
    if (port) return port;
    port = api.runtime.connect({ name: "kyso" });
    port.onMessage.addListener((msg) => {
      if (!msg || typeof msg !== "object") return;
      if (msg.kyso === "response-part") {
        // The background checked the answer and cut it only because the
        // browser limits one extension message to 64 MiB: join, then one
        // response for the page.
        const pieces = joining.get(msg.id) || [];
        pieces.push(msg.data);
        joining.set(msg.id, pieces);
        if (pieces.length < msg.parts) return;
        joining.delete(msg.id);
        let resp;
        try {
          resp = JSON.parse(pieces.join(""));
        } catch {
          resp = { id: msg.id, ok: false, error: { code: "INTERNAL", message: "Kyso's answer could not be read" } };
        }
        pending.delete(msg.id);
        reply({ ...resp, kyso: "response" });
        return;
      }
      if (msg.kyso !== "response" && msg.kyso !== "progress") return;
      // Progress messages come before the answer: the request is still
      // pending (and answered INTERNAL if the background goes away).
      if (msg.ok !== undefined) pending.delete(msg.id);
      reply(msg);
    });
    port.onDisconnect.addListener(() => {
      // The background went away (extension reloaded or updated): whatever
      // was pending will not be answered by it.
      port = null;
      joining.clear();
      for (const id of pending) {
        reply({ kyso: "response", id, ok: false,
          error: { code: "INTERNAL", message: "Kyso extension restarted" } });
      }
      pending.clear();
    });
    return port;
  }

  window.addEventListener("message", (event) => {
    // Only what this frame posted to itself: not other frames, not windows
    // that hold a reference to this one.
    if (event.source !== window) return;
    const data = event.data;
    if (!data || typeof data !== "object") return;
    if (data.kyso === "hello") {
      reply({ kyso: "hello-ack", version: api.runtime.getManifest().version });
      return;
    }
    if (data.kyso !== "request") return;
    const request = { id: data.id, op: data.op, params: data.params };
    pending.add(data.id);
    try {
      // self.origin lets the background refuse a frame whose sender
      // information disagrees with what the frame itself sees (it can only
      // narrow, never widen, what the browser reports).
      connect().postMessage({ kyso: "request", request, frameOrigin: self.origin });
    } catch (e) {
      pending.delete(data.id);
      port = null;
      reply({ kyso: "response", id: data.id, ok: false,
        error: { code: "INTERNAL", message: "Kyso extension unavailable: " + e.message } });
    }
  });
})();
