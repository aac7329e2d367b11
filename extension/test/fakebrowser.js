// A scripted browser for running the real src/background.js under node's
// test runner: content-script ports and native ports are plain objects whose
// listeners the tests fire, and timers run only when a test says so.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";

const here = path.dirname(fileURLToPath(import.meta.url));
const source = fs.readFileSync(path.join(here, "../src/background.js"), "utf8");

export function listeners() {
  const fns = [];
  return { fns, addListener: (fn) => fns.push(fn), fire: (...a) => fns.forEach((fn) => fn(...a)) };
}

// loadBackground runs background.js against a fake chrome API whose native
// ports answer only when a test fires their onMessage (a dialog left open),
// and returns what it started.
export function loadBackground() {
  const natives = [];
  const onConnect = listeners();
  const timers = new Map();
  let nextTimer = 1;
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
  const setTimeout = (fn, ms) => { const id = nextTimer++; timers.set(id, { fn, ms }); return id; };
  const clearTimeout = (id) => timers.delete(id);
  vm.runInNewContext(source, { chrome, URL, setTimeout, clearTimeout });
  const connect = (origin, tabId = 1) => {
    const port = { name: "kyso", sender: { id: "kyso-ext", tab: { id: tabId }, origin },
      answers: [], onMessage: listeners(), onDisconnect: listeners(),
      postMessage(m) { port.answers.push(m); }, disconnect() {} };
    onConnect.fire(port);
    return port;
  };
  // runTimers fires every pending timer (the time they wait for has passed).
  const runTimers = () => {
    const due = [...timers.values()];
    timers.clear();
    due.forEach((t) => t.fn());
    return due.length;
  };
  return { natives, connect, runTimers, pendingTimers: () => timers.size };
}

export const request = (id, origin = "https://a.gov.vn") =>
  ({ kyso: "request", request: { id, op: "version", params: {} }, frameOrigin: origin });

// plain copies a value made in the background's realm into this one, so
// that deepEqual compares contents only.
export const plain = (x) => JSON.parse(JSON.stringify(x));
