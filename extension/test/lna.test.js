// The Local Network Access logic of kyso.js (DESIGN "Errors", issue 17):
// a blocked socket and an agent that is not running both close with 1006
// within milliseconds, so the permission state and the frame's policy tell
// LOCAL_NETWORK_BLOCKED from NOT_INSTALLED; a socket left pending while the
// browser's prompt is open is reported (waiting-for-browser-permission) and
// waited for without a time limit; nothing touches the network on page load.
// Real Chromium runs the same cases in e2e/lna_test.go.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createClient, errors, LOOPBACK_PERMISSIONS, states } from "../kyso.js";
import { fakeNavigator, fakeWebSocket, fakeWindow, ok, wait } from "./fakes.js";

// client builds a client without the extension, over a scripted agent.
function client(nav, mode, opts = {}) {
  const WS = fakeWebSocket(ok({ signed: true }), { mode });
  const seen = [];
  const c = createClient({ window: fakeWindow(null), navigator: nav, WebSocket: WS, helloTimeout: 10,
    waitingAfter: 30, connectTimeout: 200, lang: "en", onStateChange: (s, info) => seen.push([s, info]), ...opts });
  return { c, WS, seen };
}

const code = (want, detail) => (e) => {
  assert.equal(e.code, want, e.message + " / " + e.detail);
  if (detail) assert.match(e.detail, detail);
  return true;
};

test("denied permission and a failing socket: LOCAL_NETWORK_BLOCKED", async () => {
  const nav = fakeNavigator({ "loopback-network": "denied" });
  const { c, seen } = client(nav, "fail");
  await assert.rejects(c.sign({ certificateId: "ab", hash: new Uint8Array(32), hashFunction: "SHA-256" }),
    code(errors.LOCAL_NETWORK_BLOCKED, /loopback-network.*denied/));
  assert.deepEqual(seen, [], "no waiting: the answer came from the failure, not a timer");
});

test("granted permission, nothing listening: NOT_INSTALLED", async () => {
  const { c } = client(fakeNavigator({ "loopback-network": "granted" }), "fail");
  await assert.rejects(c.version(), code(errors.NOT_INSTALLED, /ws:\/\/127\.0\.0\.1:28418\/v1/));
});

test("prompt state and a socket that fails at once (nothing listens, or a page that is not public): NOT_INSTALLED", async () => {
  const { c, seen } = client(fakeNavigator({ "loopback-network": "prompt" }), "fail");
  await assert.rejects(c.version(), code(errors.NOT_INSTALLED));
  assert.deepEqual(seen, []);
});

test("a pending prompt is told to the page, waited for past every timeout, and the request goes on after Allow", async () => {
  const nav = fakeNavigator({ "loopback-network": "prompt" });
  const { c, WS, seen } = client(nav, "pending");
  const p = c.sign({ certificateId: "ab", hash: new Uint8Array(32), hashFunction: "SHA-256" });
  await wait(400); // twice connectTimeout
  assert.deepEqual(seen, [[states.WAITING_FOR_BROWSER_PERMISSION, { permission: "loopback-network" }]]);
  assert.equal(WS.state.created, 1);
  nav.states["loopback-network"] = "granted";
  WS.state.last.open();
  assert.deepEqual(await p, { signed: true });
  assert.equal(seen[1][0], states.CONNECTED);
});

test("after the prompt: Block → LOCAL_NETWORK_BLOCKED; closed without an answer → LOCAL_NETWORK_BLOCKED; Allow with no agent → NOT_INSTALLED", async () => {
  for (const [after, want] of [["denied", "LOCAL_NETWORK_BLOCKED"], ["prompt", "LOCAL_NETWORK_BLOCKED"], ["granted", "NOT_INSTALLED"]]) {
    const nav = fakeNavigator({ "loopback-network": "prompt" });
    const { c, WS, seen } = client(nav, "pending");
    const p = c.version();
    await wait(150);
    assert.equal(seen[0]?.[0], states.WAITING_FOR_BROWSER_PERMISSION, after);
    nav.states["loopback-network"] = after;
    WS.state.last.fail();
    await assert.rejects(p, code(want), after);
  }
});

test("a granted page whose socket hangs gets NOT_INSTALLED after connectTimeout, without a waiting state", async () => {
  const { c, seen } = client(fakeNavigator({ "loopback-network": "granted" }), "pending");
  await assert.rejects(c.version(), code(errors.NOT_INSTALLED, /did not answer within 200 ms/));
  assert.deepEqual(seen, []);
});

test("permission names: the first the browser knows counts; names it does not know throw and are skipped", async () => {
  assert.deepEqual([...LOOPBACK_PERMISSIONS], ["loopback-network", "local-network-access", "local-network"]);
  // Chromium 142–145: only the legacy name.
  let nav = fakeNavigator({ "local-network-access": "denied" });
  let { c } = client(nav, "fail");
  await assert.rejects(c.version(), code(errors.LOCAL_NETWORK_BLOCKED, /local-network-access/));
  assert.deepEqual(nav.queried.slice(0, 2), ["loopback-network", "local-network-access"]);
  // A browser that knows the new name: the legacy one is not asked.
  nav = fakeNavigator({ "loopback-network": "granted", "local-network-access": "denied" });
  ({ c } = client(nav, "fail"));
  await assert.rejects(c.version(), code(errors.NOT_INSTALLED));
  assert.ok(!nav.queried.includes("local-network-access"));
  // A browser that knows none (or has no Permissions API): a failure is NOT_INSTALLED.
  for (const none of [fakeNavigator({}), {}, undefined]) {
    ({ c } = client(none, "fail"));
    await assert.rejects(c.version(), code(errors.NOT_INSTALLED));
  }
});

test("a browser that cannot tell (no permission name) never waits without a limit", async () => {
  const { c, seen } = client(fakeNavigator({}), "pending");
  await assert.rejects(c.version(), code(errors.NOT_INSTALLED));
  assert.deepEqual(seen, []);
});

test("an iframe without allow=\"loopback-network\" is told so", async () => {
  const policy = { features: () => ["local-network", "local-network-access", "loopback-network"], allowsFeature: (f) => f !== "loopback-network" };
  const win = fakeWindow(null, { document: { featurePolicy: policy } });
  const { c } = client(fakeNavigator({ "loopback-network": "prompt" }), "fail", { window: win });
  await assert.rejects(c.version(), code(errors.LOCAL_NETWORK_BLOCKED, /allow="loopback-network"/));
  assert.equal((await c.detect()).frameAllowed, false);
  // A frame that is allowed fails as NOT_INSTALLED.
  const allowed = fakeWindow(null, { document: { featurePolicy: { features: () => ["loopback-network"], allowsFeature: () => true } } });
  const other = client(fakeNavigator({ "loopback-network": "prompt" }), "fail", { window: allowed }).c;
  await assert.rejects(other.version(), code(errors.NOT_INSTALLED));
});

test("nothing touches the network until an operation is called; detect() neither", async () => {
  const nav = fakeNavigator({ "loopback-network": "prompt" });
  const { c, WS } = client(nav, "open");
  const d = await c.detect();
  assert.deepEqual(d, { extension: null, localNetworkAccess: "prompt", permission: "loopback-network", frameAllowed: true });
  await wait(50);
  assert.equal(WS.state.created, 0);
  await c.version();
  assert.equal(WS.state.created, 1);
});

test("a permission query that never answers does not hold the request", async () => {
  const nav = { permissions: { query: () => new Promise(() => {}) } };
  const { c } = client(nav, "fail");
  await assert.rejects(c.version(), code(errors.NOT_INSTALLED));
});

test("a failed socket is retried by the next request (the person may allow it in site settings)", async () => {
  const nav = fakeNavigator({ "loopback-network": "denied" });
  const { c, WS } = client(nav, "fail");
  await assert.rejects(c.version(), code(errors.LOCAL_NETWORK_BLOCKED));
  nav.states["loopback-network"] = "granted";
  WS.state.mode = "open";
  assert.deepEqual(await c.version(), { signed: true });
  assert.equal(WS.state.created, 2);
});
