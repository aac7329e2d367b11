// Kyso background (service worker on Chromium, event page on Firefox).
// For each request of a content script it opens one native-messaging port
// to the Kyso host, sends {"origin", "request"} with the origin taken from
// the browser's sender information — never from the page's message — and
// passes the one answer back (joined first when the host sent it in parts),
// and before it the operation's progress messages.
// The native port is closed on the answer and when the frame goes away,
// which makes the host cancel the operation and close its dialog.
"use strict";

const api = globalThis.browser ?? globalThis.chrome;
const HOST_NAME = "__KYSO_HOST_NAME__"; // filled in by build.js from internal/extid/ids.json

// Each request starts a `kyso host` process (one native port). A page that
// floods requests must not make the browser start hundreds of them, nor
// take every port so that other tabs stop working: past these caps a
// request is answered BUSY at once. One tab holds at most 8 (its frames
// together), one origin at most 16 (its tabs together), the browser 32: a
// flooding tab leaves 24 ports to the others, a flooding site 16. The
// engine runs one interactive operation at a time anyway, so a real page
// never comes near.
const MAX_PER_TAB = 8;
const MAX_PER_ORIGIN = 16;
const MAX_TOTAL = 32;

// A large answer (a signed document) comes from the host in parts
// {"id", "part": i, "parts": n, "data"} (docs/protocol.md, "Large answers").
// The background joins them into one response, within these bounds; a
// broken sequence becomes an INTERNAL error for the page, never a hang.
const MAX_ANSWER_CHARS = 96 * 1024 * 1024; // the joined JSON text
const MAX_PARTS = 4096;
const PART_WAIT_MS = 30000; // between two parts
// Chromium refuses extension messages over 64 MiB (as JSON): a larger
// answer goes to the content script in pieces of at most this many
// characters (≤ 48 MiB as UTF-8), which it joins before the page sees it.
const HOP_CHARS = 16 * 1024 * 1024;

const open = { total: 0, tabs: new Map(), origins: new Map() }; // native ports held

const bump = (m, k, d) => {
  const n = (m.get(k) || 0) + d;
  if (n > 0) m.set(k, n);
  else m.delete(k);
};

// take reserves a native port for a tab and an origin, or says no.
function take(tab, origin) {
  if (open.total >= MAX_TOTAL || (open.tabs.get(tab) || 0) >= MAX_PER_TAB ||
      (open.origins.get(origin) || 0) >= MAX_PER_ORIGIN) {
    return false;
  }
  open.total++;
  bump(open.tabs, tab, 1);
  bump(open.origins, origin, 1);
  return true;
}

function release(tab, origin) {
  open.total--;
  bump(open.tabs, tab, -1);
  bump(open.origins, origin, -1);
}

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

// joiner reads what the host sends for request id: a plain response, the
// parts of a large one, or progress ({"id", "progress": {"done", "total"}}
// of a long operation, before its answer). add returns undefined while more
// is needed, { progress } for a progress message to pass on, else
// { resp, text } or { error }.
function joiner(id) {
  let n = 0; // parts announced by part 0
  let pieces = [];
  let chars = 0;
  return {
    started: () => n > 0,
    add(msg) {
      if (!msg || typeof msg !== "object" || Array.isArray(msg)) return { error: "not a JSON object" };
      if ("part" in msg) {
        const { part, parts, data } = msg;
        if (msg.id !== id || !Number.isInteger(part) || !Number.isInteger(parts) || typeof data !== "string") {
          return { error: "a malformed part" };
        }
        if (n === 0) {
          if (part !== 0) return { error: "part " + part + " came first: a part is missing" };
          if (parts < 1 || parts > MAX_PARTS) return { error: "an answer in " + parts + " parts" };
          n = parts;
        } else if (parts !== n) {
          return { error: "parts changed from " + n + " to " + parts };
        } else if (part !== pieces.length) {
          return { error: part < pieces.length ? "part " + part + " came twice" : "part " + pieces.length + " is missing" };
        }
        chars += data.length;
        if (chars > MAX_ANSWER_CHARS) return { error: "the answer is over 96 MiB" };
        pieces.push(data);
        if (pieces.length < n) return undefined;
        const text = pieces.join("");
        pieces = [];
        let resp;
        try {
          resp = JSON.parse(text);
        } catch {
          return { error: "the joined parts are not JSON" };
        }
        if (!resp || typeof resp !== "object" || Array.isArray(resp) || resp.id !== id || typeof resp.ok !== "boolean") {
          return { error: "the joined parts are not this request's response" };
        }
        return { resp, text };
      }
      if (n > 0) return { error: "a message came between the parts" };
      if (typeof msg.ok === "boolean") return { resp: msg };
      if ("progress" in msg) {
        // Passed on as the host wrote it; another request's, or an odd one,
        // is dropped (the page's library checks the numbers again).
        const p = msg.progress;
        if (msg.id !== id || !p || typeof p !== "object" || !Number.isInteger(p.done) || !Number.isInteger(p.total)) {
          return undefined;
        }
        return { progress: { id, progress: { done: p.done, total: p.total } } };
      }
      return { error: "an unexpected message" };
    },
  };
}

api.runtime.onConnect.addListener((port) => {
  if (port.name !== "kyso" || !port.sender || port.sender.id !== api.runtime.id || !port.sender.tab) {
    port.disconnect();
    return;
  }
  const origin = senderOrigin(port.sender);
  const tab = port.sender.tab.id;
  const natives = new Set();
  const post = (m) => {
    try {
      port.postMessage(m);
    } catch {
      // The frame is gone.
    }
  };

  port.onMessage.addListener((msg) => {
    if (!msg || msg.kyso !== "request" || !msg.request || typeof msg.request !== "object") return;
    const request = msg.request;
    // The frame's own view can only narrow what the browser reports.
    const o = msg.frameOrigin === origin ? origin : "null";
    const id = typeof request.id === "string" ? request.id : "";
    if (!take(tab, origin)) {
      post({ kyso: "response", id, ok: false,
        error: { code: "BUSY", message: "Too many Kyso requests are pending; try again when they are answered" } });
      return;
    }
    let native;
    let answered = false;
    let stall = null;
    const answer = (resp, text) => {
      if (answered) return;
      answered = true;
      clearTimeout(stall);
      if (natives.delete(native)) release(tab, origin);
      if (text === undefined || text.length <= HOP_CHARS) {
        post({ ...resp, kyso: "response" });
        return;
      }
      const parts = Math.ceil(text.length / HOP_CHARS);
      for (let i = 0; i < parts; i++) {
        post({ kyso: "response-part", id, part: i, parts, data: text.slice(i * HOP_CHARS, (i + 1) * HOP_CHARS) });
      }
    };
    const fail = (why) => {
      answer({ id, ok: false, error: { code: "INTERNAL", message: "Kyso's answer could not be read (" + why + ")" } });
      try {
        native.disconnect(); // the host sees the port close and stops
      } catch {
        // Already closed.
      }
    };

    try {
      native = api.runtime.connectNative(HOST_NAME);
    } catch (e) {
      release(tab, origin);
      answer({ id, ok: false, error: disconnectError(String(e && e.message)) });
      return;
    }
    natives.add(native);
    const join = joiner(id);
    native.onMessage.addListener((m) => {
      if (answered) return;
      const r = join.add(m);
      if (r === undefined) {
        if (join.started()) {
          clearTimeout(stall);
          stall = setTimeout(() => fail("no part for " + PART_WAIT_MS / 1000 + " s"), PART_WAIT_MS);
        }
        return;
      }
      if (r.error) {
        fail(r.error);
        return;
      }
      if (r.progress) {
        post({ ...r.progress, kyso: "progress" });
        return;
      }
      answer(r.resp, r.text);
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
    const held = [...natives];
    natives.clear();
    for (const native of held) {
      release(tab, origin);
      native.disconnect();
    }
  });
});
