// The background joins a large answer the host sends in parts
// ({"id", "part": i, "parts": n, "data"}: docs/protocol.md) into one
// response for the page, within bounds; every broken sequence ends in one
// INTERNAL response, never a hang and never a second answer.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import vm from "node:vm";
import { listeners, loadBackground, plain, request } from "./fakebrowser.js";

// start sends one request and returns the page's port and the native port.
function start(id = "big") {
  const bg = loadBackground();
  const page = bg.connect("https://a.gov.vn");
  page.onMessage.fire(request(id));
  return { bg, page, native: bg.natives[0] };
}

// cut is the host's side of the rule: the response's JSON text in n
// consecutive pieces, never splitting a character.
function cut(resp, n) {
  const chars = [...JSON.stringify(resp)];
  const size = Math.ceil(chars.length / n);
  const out = [];
  for (let i = 0; i < n; i++) out.push(chars.slice(i * size, (i + 1) * size).join(""));
  return out.map((data, i) => ({ id: resp.id, part: i, parts: n, data }));
}

const signed = { id: "big", ok: true, result: { document: "JVBERi0x".repeat(5000), summary: "Tờ khai — ký số ✓ 𝒦" } };

test("parts in order make one response", () => {
  const { page, native, bg } = start();
  for (const p of cut(signed, 7)) native.onMessage.fire(p);
  assert.equal(page.answers.length, 1);
  assert.deepEqual(plain(page.answers[0]), { ...signed, kyso: "response" });
  assert.ok(native.disconnected, "the port closes once answered");
  assert.equal(bg.pendingTimers(), 0, "no stall timer left");
});

test("one part is a response too, and plain responses and progress still work", () => {
  let { page, native } = start();
  cut(signed, 1).forEach((p) => native.onMessage.fire(p));
  assert.deepEqual(plain(page.answers), [{ ...signed, kyso: "response" }]);
  ({ page, native } = start("v"));
  native.onMessage.fire({ id: "v", progress: { step: "pin" } }); // not a count: dropped
  native.onMessage.fire({ id: "other", progress: { done: 1, total: 2 } }); // another request's: dropped
  native.onMessage.fire({ id: "v", progress: { done: 1, total: 2 }, extra: "<b>" });
  assert.ok(!native.disconnected, "progress is not the answer");
  native.onMessage.fire({ id: "v", ok: true, result: { version: "1" } });
  assert.deepEqual(plain(page.answers), [
    { id: "v", progress: { done: 1, total: 2 }, kyso: "progress" },
    { id: "v", ok: true, result: { version: "1" }, kyso: "response" },
  ]);
});

function expectInternal(page, native, why) {
  assert.equal(page.answers.length, 1, why + ": one answer");
  const a = page.answers[0];
  assert.equal(a.kyso, "response");
  assert.equal(a.id, "big");
  assert.equal(a.ok, false);
  assert.equal(a.error.code, "INTERNAL", why);
  assert.ok(native.disconnected, why + ": the host is told to stop");
}

test("broken sequences end in one INTERNAL response", () => {
  const parts = cut(signed, 4);
  const cases = {
    "a missing part": [parts[0], parts[2], parts[3]],
    "a duplicate part": [parts[0], parts[0], parts[1], parts[2], parts[3]],
    "a first part that is not 0": [parts[1]],
    "parts that change their count": [parts[0], { ...parts[1], parts: 5 }],
    "another request's id": [parts[0], { ...parts[1], id: "other" }],
    "data that is not a string": [parts[0], { ...parts[1], data: 42 }],
    "a part number that is not a whole number": [parts[0], { ...parts[1], part: 1.5 }],
    "no parts at all": [{ id: "big", part: 0, parts: 0, data: "" }],
    "too many parts": [{ id: "big", part: 0, parts: 100000, data: "{" }],
    "a response between the parts": [parts[0], { id: "big", ok: true, result: {} }],
    "joined text that is not JSON": cut(signed, 4).map((p, i) => (i === 3 ? { ...p, data: p.data + "}" } : p)),
    "joined JSON of another request": cut({ ...signed, id: "x" }, 2).map((p) => ({ ...p, id: "big" })),
    "joined JSON without ok": cut({ id: "big", result: {} }, 2),
    "joined JSON that is a list": [{ id: "big", part: 0, parts: 1, data: "[1]" }],
    "a message that is neither": [{ hello: 1 }],
  };
  for (const [why, msgs] of Object.entries(cases)) {
    const { page, native } = start();
    for (const m of msgs) native.onMessage.fire(m);
    expectInternal(page, native, why);
    // Whatever else the host still sends changes nothing.
    for (const m of parts) native.onMessage.fire(m);
    assert.equal(page.answers.length, 1, why + ": no second answer");
  }
});

test("more than 96 MiB is refused as it arrives", () => {
  const { page, native } = start();
  const mib = "A".repeat(1024 * 1024);
  let i = 0;
  for (; i < 200 && page.answers.length === 0; i++) native.onMessage.fire({ id: "big", part: i, parts: 200, data: mib });
  expectInternal(page, native, "over 96 MiB");
  assert.equal(i, 97, "refused at the part that crossed 96 MiB");
});

test("a host that stops between parts does not leave the page hanging", () => {
  const { page, native, bg } = start();
  const parts = cut(signed, 3);
  native.onMessage.fire(parts[0]);
  native.onMessage.fire(parts[1]);
  assert.equal(page.answers.length, 0);
  assert.equal(bg.runTimers(), 1, "a stall timer runs while parts are awaited");
  expectInternal(page, native, "stall");
  assert.match(page.answers[0].error.message, /no part for 30 s/);
});

test("an answer over one extension message reaches the page whole", () => {
  const { page, native } = start();
  const big = { id: "big", ok: true, result: { document: "ký".repeat(9 * 1024 * 1024) } }; // 18 Mi characters
  for (const p of cut(big, 40)) native.onMessage.fire(p);
  assert.ok(page.answers.length === 2 && page.answers.every((a) => a.kyso === "response-part"),
    "the background cuts it for the browser's 64 MiB message limit");
  // The content script joins the pieces and posts one response.
  const seen = runContent(page.answers);
  assert.equal(seen.length, 1);
  assert.deepEqual(plain(seen[0]), { ...big, kyso: "response" });
});

// runContent runs the real content.js with a fake window and extension
// port, posts one request from the page, feeds the background's messages
// back and returns what the page received.
function runContent(fromBackground) {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const source = fs.readFileSync(path.join(here, "../src/content.js"), "utf8");
  const posted = [];
  const pageListeners = [];
  const window = {
    origin: "https://a.gov.vn",
    addEventListener: (type, fn) => type === "message" && pageListeners.push(fn),
    postMessage: (m) => posted.push(m),
  };
  const port = { onMessage: listeners(), onDisconnect: listeners(), postMessage() {} };
  const chrome = { runtime: { connect: () => port, getManifest: () => ({ version: "0.1.0" }) } };
  vm.runInNewContext(source, { window, self: window, chrome });
  pageListeners.forEach((fn) => fn({ source: window, data: { kyso: "request", id: "big", op: "sign", params: {} } }));
  fromBackground.forEach((m) => port.onMessage.fire(m));
  return posted.filter((m) => m.kyso === "response");
}
