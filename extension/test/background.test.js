// Security tests of the background script under node's test runner, with a
// scripted browser API: a page must not be able to make the browser start an
// unbounded number of `kyso host` processes by flooding requests, and the
// origin sent to the host is the browser's, never the page's.
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadBackground, request } from "./fakebrowser.js";

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

// One tab that floods holds at most 8 ports, so other tabs — of the same
// site or another — still reach the host.
test("a flooding tab leaves ports to the other tabs", () => {
  const bg = loadBackground();
  const frames = [1, 2, 3].map(() => bg.connect("https://a.gov.vn", 7)); // three frames of tab 7
  for (let i = 0; i < 300; i++) frames[i % 3].onMessage.fire(request("f" + i));
  assert.equal(bg.natives.length, 8, "tab 7 holds 8 ports");
  const same = bg.connect("https://a.gov.vn", 8);
  same.onMessage.fire(request("same-site"));
  const other = bg.connect("https://b.gov.vn", 9);
  other.onMessage.fire(request("other-site"));
  assert.equal(bg.natives.length, 10);
  assert.ok(same.answers.length === 0 && other.answers.length === 0, "the other tabs were not refused");
  // Tab 7 closes: its ports are freed (and their hosts told to stop).
  frames.forEach((f) => f.onDisconnect.fire());
  assert.equal(bg.natives.filter((n) => n.disconnected).length, 8);
  const again = bg.connect("https://a.gov.vn", 7);
  again.onMessage.fire(request("after"));
  assert.equal(again.answers.length, 0);
});

// One site over many tabs holds at most 16; the browser at most 32.
test("per-origin and total caps", () => {
  const bg = loadBackground();
  for (let tab = 1; tab <= 10; tab++) {
    const p = bg.connect("https://a.gov.vn", tab);
    for (let i = 0; i < 8; i++) p.onMessage.fire(request(`a${tab}-${i}`));
  }
  assert.equal(bg.natives.length, 16, "one origin holds 16");
  const b = bg.connect("https://b.gov.vn", 50);
  b.onMessage.fire(request("b"));
  assert.equal(bg.natives.length, 17, "another origin still gets a port");
  for (let tab = 100; tab < 120; tab++) {
    const p = bg.connect(`https://s${tab}.gov.vn`, tab);
    for (let i = 0; i < 3; i++) p.onMessage.fire(request(`s${tab}-${i}`));
  }
  assert.equal(bg.natives.length, 32, "32 in all");
  const late = bg.connect("https://late.gov.vn", 200);
  late.onMessage.fire(request("late"));
  assert.equal(late.answers[0].error.code, "BUSY");
  // An answer frees its port at once.
  const n = bg.natives[0];
  n.onMessage.fire({ id: n.posted[0].request.id, ok: true, result: {} });
  late.onMessage.fire(request("late2"));
  assert.equal(late.answers.length, 1, "served once a port was free");
});
