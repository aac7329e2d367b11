// Security tests of the background script under node's test runner, with a
// scripted browser API: a page must not be able to make the browser start an
// unbounded number of `kyso host` processes by flooding requests, and the
// origin sent to the host is the browser's, never the page's.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import vm from "node:vm";

const here = path.dirname(fileURLToPath(import.meta.url));
const source = fs.readFileSync(path.join(here, "../src/background.js"), "utf8");

function listeners() {
  const fns = [];
  return { fns, addListener: (fn) => fns.push(fn), fire: (...a) => fns.forEach((fn) => fn(...a)) };
}

// loadBackground runs background.js against a fake chrome API whose native
// ports never answer (a dialog left open), and returns what it started.
function loadBackground() {
  const natives = [];
  const onConnect = listeners();
  const chrome = {
    runtime: {
      id: "kyso-ext",
      onConnect,
      connectNative(name) {
        const n = { name, posted: [], onMessage: listeners(), onDisconnect: listeners(), disconnected: false,
          postMessage(m) { n.posted.push(m); }, disconnect() { n.disconnected = true; } };
        natives.push(n);
        return n;
      },
    },
  };
  vm.runInNewContext(source, { chrome, URL, Set, Map });
  const connect = (origin, tabId = 1) => {
    const port = { name: "kyso", sender: { id: "kyso-ext", tab: { id: tabId }, origin },
      answers: [], onMessage: listeners(), onDisconnect: listeners(),
      postMessage(m) { port.answers.push(m); }, disconnect() {} };
    onConnect.fire(port);
    return port;
  };
  return { natives, connect };
}

const request = (id) => ({ kyso: "request", request: { id, op: "version", params: {} }, frameOrigin: "https://a.gov.vn" });

test("a frame flooding requests cannot start unbounded host processes", () => {
  const bg = loadBackground();
  const port = bg.connect("https://a.gov.vn");
  for (let i = 0; i < 200; i++) port.onMessage.fire(request("r" + i));
  assert.ok(bg.natives.length > 0, "no request reached the host");
  assert.ok(bg.natives.length <= 16, `${bg.natives.length} host processes for one frame`);
  const busy = port.answers.filter((a) => a.ok === false && a.error.code === "BUSY");
  assert.equal(busy.length, 200 - bg.natives.length, "each refused request is answered BUSY");
  assert.ok(busy.every((a) => a.kyso === "response" && /^r\d+$/.test(a.id)));
  // When an answer comes back, a slot frees up.
  const n = bg.natives[0];
  n.onMessage.fire({ id: n.posted[0].request.id, ok: true, result: {} });
  const before = bg.natives.length;
  port.onMessage.fire(request("again"));
  assert.equal(bg.natives.length, before + 1);
});

test("many frames together are capped too", () => {
  const bg = loadBackground();
  for (let f = 0; f < 100; f++) {
    const port = bg.connect("https://a.gov.vn", f);
    for (let i = 0; i < 4; i++) port.onMessage.fire(request(`f${f}r${i}`));
  }
  assert.ok(bg.natives.length <= 64, `${bg.natives.length} host processes in all`);
});

test("the origin is the browser's, narrowed by the frame's own view", () => {
  const bg = loadBackground();
  const port = bg.connect("https://a.gov.vn");
  port.onMessage.fire({ ...request("x"), origin: "https://bank.gov.vn" });
  port.onMessage.fire({ ...request("y"), frameOrigin: "https://bank.gov.vn" });
  assert.equal(bg.natives[0].posted[0].origin, "https://a.gov.vn");
  assert.equal(bg.natives[1].posted[0].origin, "null");
});
