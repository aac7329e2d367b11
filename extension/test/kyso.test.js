// Tests of kyso.js's own logic under node's test runner: base64, ids, error
// mapping, and the choice of path (extension, WebSocket, NOT_INSTALLED) with
// a scripted window and WebSocket (fakes.js). Real browsers run it in the
// e2e tests. The Local Network Access logic is in lna.test.js, the document
// operations and progress in ops.test.js, the build and messages in
// build.test.js.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createClient, fromBase64, KysoError, nextId, settle, toBase64 } from "../kyso.js";
import { extension, fakeNavigator, fakeWebSocket, fakeWindow, ok } from "./fakes.js";

test("toBase64 takes bytes in every form and checks strings", () => {
  const bytes = new Uint8Array([0, 1, 2, 250, 251, 252, 253, 254, 255]);
  const want = Buffer.from(bytes).toString("base64");
  assert.equal(toBase64(bytes), want);
  assert.equal(toBase64(bytes.buffer), want);
  assert.equal(toBase64(new DataView(bytes.buffer)), want);
  const big = new Uint8Array(200000).map((_, i) => i * 7);
  assert.equal(toBase64(big), Buffer.from(big).toString("base64"));
  const sub = new Uint8Array(bytes.buffer, 3, 4);
  assert.equal(toBase64(sub), Buffer.from([250, 251, 252, 253]).toString("base64"));
  assert.equal(toBase64("AAE="), "AAE=");
  assert.equal(toBase64(""), "");
  for (const bad of ["AAE", "AA-_", "AAE=\n", "A===", 42, null, [1, 2]]) {
    assert.throws(() => toBase64(bad), (e) => e instanceof KysoError && e.code === "BAD_REQUEST", String(bad));
  }
  assert.deepEqual([...fromBase64(want)], [...bytes]);
});

test("ids are unique and protocol-sized", () => {
  const seen = new Set();
  for (let i = 0; i < 1000; i++) {
    const id = nextId();
    assert.ok(id.length >= 1 && id.length <= 64);
    assert.ok(!seen.has(id));
    seen.add(id);
  }
});

test("settle maps answers to results and KysoErrors", () => {
  assert.deepEqual(settle({ id: "a", ok: true, result: { x: 1 } }), { result: { x: 1 } });
  const { error } = settle({ id: "a", ok: false, error: { code: "TOKEN_ERROR", message: "Lỗi", detail: "CKR_DEVICE_ERROR" } });
  assert.ok(error instanceof KysoError && error instanceof Error);
  assert.equal(error.code, "TOKEN_ERROR");
  assert.equal(error.message, "Lỗi");
  assert.equal(error.detail, "CKR_DEVICE_ERROR");
  assert.equal(settle({ ok: false }).error.code, "INTERNAL");
  assert.equal(settle("junk").error.code, "INTERNAL");
});

test("the extension answers when it is there", async () => {
  const win = fakeWindow(extension(ok({ version: "1.0.0", protocol: 1 })));
  const WS = fakeWebSocket(() => assert.fail("WebSocket used"));
  const c = createClient({ window: win, WebSocket: WS });
  assert.deepEqual(await c.version(), { version: "1.0.0", protocol: 1 });
  const req = win.posted.find((p) => p.data.kyso === "request");
  assert.equal(req.target, "https://portal.example.gov.vn");
  assert.equal(req.data.op, "version");
  assert.equal(WS.state.urls.length, 0);
});

test("sign sends base64 and the page's parameters", async () => {
  let seen;
  const win = fakeWindow(extension((r) => { seen = r; return { id: r.id, ok: true, result: { signature: "AAAA", scheme: "RSASSA-PKCS1-v1_5", hashFunction: "SHA-256" } }; }));
  const c = createClient({ window: win });
  const res = await c.sign({ certificateId: "ab", hash: new Uint8Array(32), hashFunction: "SHA-256", description: "Tờ khai" });
  assert.equal(res.signature, "AAAA");
  assert.deepEqual(seen.params, { certificateId: "ab", hashFunction: "SHA-256", hash: toBase64(new Uint8Array(32)), description: "Tờ khai" });
  await c.signBatch({ certificateId: "ab", hashes: [new Uint8Array(32), toBase64(new Uint8Array(48))], hashFunction: "SHA-256", scheme: "RSASSA-PSS" });
  assert.deepEqual(seen.params.hashes, [toBase64(new Uint8Array(32)), toBase64(new Uint8Array(48))]);
  assert.equal(seen.params.scheme, "RSASSA-PSS");
  await assert.rejects(c.sign({ certificateId: "ab", hash: "not base64!", hashFunction: "SHA-256" }), { code: "BAD_REQUEST" });
  await assert.rejects(c.signBatch({ certificateId: "ab", hashFunction: "SHA-256" }), { code: "BAD_REQUEST" });
});

test("errors reject with their code; other frames are ignored", async () => {
  const win = fakeWindow(extension((r) => ({ id: r.id, ok: false, error: { code: "USER_CANCELLED", message: "Người dùng đã hủy" } })));
  const c = createClient({ window: win });
  const p = c.getCertificate();
  win.fromElsewhere({ kyso: "response", id: "k-forged", ok: true, result: {} });
  await assert.rejects(p, (e) => e instanceof KysoError && e.code === "USER_CANCELLED");
});

test("without the extension it uses one WebSocket, and reconnects after a close", async () => {
  const win = fakeWindow(null);
  const WS = fakeWebSocket((req) => ({ id: req.id, ok: true, result: { op: req.op } }));
  const c = createClient({ window: win, WebSocket: WS, helloTimeout: 20, port: 12345 });
  const [a, b] = await Promise.all([c.version(), c.getCertificate({ filter: { issuer: "VGCA" } })]);
  assert.deepEqual([a.op, b.op], ["version", "getCertificate"]);
  assert.equal(WS.state.opened, 1);
  assert.equal(WS.state.urls[0], "ws://127.0.0.1:12345/v1");
  assert.deepEqual(WS.state.last.sent[1].params, { filter: { issuer: "VGCA" } });
  WS.state.last.close();
  await new Promise((r) => setTimeout(r, 5));
  await c.version();
  assert.equal(WS.state.opened, 2);
  await c.close();
});

test("a WebSocket closing mid-request rejects it", async () => {
  const win = fakeWindow(null);
  const WS = fakeWebSocket(() => { WS.state.last.close(); return { id: "someone-else", ok: true }; });
  const c = createClient({ window: win, WebSocket: WS, helloTimeout: 20 });
  await assert.rejects(c.version(), { code: "INTERNAL" });
});

test("an installed extension is the only path, even when its host is missing (the port may be anyone's)", async () => {
  const win = fakeWindow(extension((r) => ({ id: r.id, ok: false,
    error: { code: "NOT_INSTALLED", message: "Kyso is not installed on this computer (Specified native messaging host not found.)" } })));
  const WS = fakeWebSocket(ok({ via: "ws" }));
  const c = createClient({ window: win, WebSocket: WS, lang: "vi" });
  for (let i = 0; i < 2; i++) {
    await assert.rejects(c.version(), (e) => {
      assert.equal(e.code, "NOT_INSTALLED");
      assert.match(e.detail, /native messaging host not found/);
      return true;
    });
  }
  assert.equal(WS.state.created, 0, "the WebSocket was tried");
  assert.equal(win.posted.filter((p) => p.data.kyso === "request").length, 2);
});

test("NOT_INSTALLED when neither answers", async () => {
  const state = { mode: "fail" };
  const WS = fakeWebSocket(ok({ late: true }), state);
  const c = createClient({ window: fakeWindow(null), WebSocket: WS, helloTimeout: 20, navigator: fakeNavigator() });
  await assert.rejects(c.version(), (e) => e instanceof KysoError && e.code === "NOT_INSTALLED");
  // The agent starts later: the next request connects.
  state.mode = "open";
  assert.deepEqual(await c.version(), { late: true });
  const none = createClient({ window: undefined, WebSocket: undefined });
  await assert.rejects(none.version(), { code: "NOT_INSTALLED" });
});
