// Kyso background (service worker on Chromium, event page on Firefox).
// For each request of a content script it opens one native-messaging port
// to the Kyso host, sends {"origin", "request"} with the origin taken from
// the browser's sender information — never from the page's message — and
// passes the one answer back. The native port is closed on the answer and
// when the frame goes away, which makes the host cancel the operation and
// close its dialog.
"use strict";

const api = globalThis.browser ?? globalThis.chrome;
const HOST_NAME = "__KYSO_HOST_NAME__"; // filled in by build.js from ids.json

// Each request starts a `kyso host` process (one native port). A page that
// floods requests must not make the browser start hundreds of them: past
// these caps a request is answered BUSY at once. The engine runs one
// interactive operation at a time anyway, so a real page never comes near.
const MAX_PER_FRAME = 8;
const MAX_TOTAL = 32;
let total = 0; // native ports open across all frames

// The origin of the frame that sent, as the browser knows it. Chromium
// (≥ 80) gives sender.origin, which is "null" for sandboxed and opaque
// frames; otherwise it is derived from the frame's URL.
function senderOrigin(sender) {
  if (typeof sender.origin === "string" && sender.origin !== "") return sender.origin;
  try {
    return new URL(sender.url).origin;
  } catch {
    return "null";
  }
}

// A native port that closes without an answer: the host is not installed
// (or its manifest does not allow this extension), or it failed.
function disconnectError(message) {
  if (/not found|no such native application|forbidden|failed to start|not allowed/i.test(message)) {
    return { code: "NOT_INSTALLED", message: "Kyso is not installed on this computer (" + message + ")" };
  }
  return { code: "INTERNAL", message: "Kyso stopped without answering" + (message ? " (" + message + ")" : "") };
}

api.runtime.onConnect.addListener((port) => {
  if (port.name !== "kyso" || !port.sender || port.sender.id !== api.runtime.id || !port.sender.tab) {
    port.disconnect();
    return;
  }
  const origin = senderOrigin(port.sender);
  const natives = new Set();

  port.onMessage.addListener((msg) => {
    if (!msg || msg.kyso !== "request" || !msg.request || typeof msg.request !== "object") return;
    const request = msg.request;
    // The frame's own view can only narrow what the browser reports.
    const o = msg.frameOrigin === origin ? origin : "null";
    const id = typeof request.id === "string" ? request.id : "";
    if (natives.size >= MAX_PER_FRAME || total >= MAX_TOTAL) {
      try {
        port.postMessage({ kyso: "response", id, ok: false,
          error: { code: "BUSY", message: "Too many Kyso requests are pending; try again when they are answered" } });
      } catch {
        // The frame is gone.
      }
      return;
    }
    let answered = false;
    const answer = (resp) => {
      if (answered) return;
      answered = true;
      if (natives.delete(native)) total--;
      try {
        port.postMessage({ ...resp, kyso: "response" });
      } catch {
        // The frame is gone.
      }
    };

    let native;
    try {
      native = api.runtime.connectNative(HOST_NAME);
    } catch (e) {
      answer({ id, ok: false, error: disconnectError(String(e && e.message)) });
      return;
    }
    natives.add(native);
    total++;
    native.onMessage.addListener((resp) => {
      answer(resp);
      native.disconnect();
    });
    native.onDisconnect.addListener((p) => {
      const err = (p && p.error) || api.runtime.lastError; // Firefox: p.error
      answer({ id, ok: false, error: disconnectError(err ? String(err.message || err) : "") });
    });
    native.postMessage({ origin: o, request });
  });

  // The frame navigated away or its tab closed: cancel what it had pending.
  port.onDisconnect.addListener(() => {
    for (const native of natives) native.disconnect();
    total -= natives.size;
    natives.clear();
  });
});
