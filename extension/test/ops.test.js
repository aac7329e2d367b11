// The operations' side of kyso.js: progress messages on both transports,
// the document operations' parameters (files, Blobs, bytes and document
// lists become what protocol v1 carries), the File/Blob helpers, no time
// limit once a request is sent, and the version check of the extension.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { base64ToBlob, createClient, MIN_EXTENSION_VERSION, readAsBase64, states, toBase64 } from "../kyso.js";
import { extension, fakeNavigator, fakeWebSocket, fakeWindow, ok, wait } from "./fakes.js";

const granted = () => fakeNavigator({ "loopback-network": "granted" });
const b64 = (s) => Buffer.from(s).toString("base64");

// viaWS is a client without the extension over a scripted agent.
function viaWS(agent) {
  const WS = fakeWebSocket(agent);
  return { WS, c: createClient({ window: fakeWindow(null), navigator: granted(), WebSocket: WS, helloTimeout: 10 }) };
}

// viaExt is a client with the extension over a scripted host.
function viaExt(answer, version, more = {}) {
  const win = fakeWindow(extension(answer, version));
  const WS = fakeWebSocket(() => assert.fail("the WebSocket was used"));
  return { win, WS, c: createClient({ window: win, navigator: granted(), WebSocket: WS, ...more }) };
}

const hashes = (n) => Array.from({ length: n }, (_, i) => new Uint8Array(32).fill(i));

test("progress over the WebSocket: interim messages reach onProgress, the answer ends the request", async () => {
  const { c, WS } = viaWS((req, send) => {
    for (let done = 0; done < 3; done++) send({ id: req.id, progress: { done, total: 3 } });
    send({ id: req.id, ok: true, result: { signatures: ["AAAA", "BBBB", "CCCC"] } });
  });
  const seen = [];
  const r = await c.signBatch({ certificateId: "ab", hashes: hashes(3), hashFunction: "SHA-256", onProgress: (p) => seen.push(p) });
  assert.deepEqual(r.signatures, ["AAAA", "BBBB", "CCCC"]);
  assert.deepEqual(seen, [{ done: 0, total: 3 }, { done: 1, total: 3 }, { done: 2, total: 3 }]);
  assert.equal(WS.state.last.sent[0].params.onProgress, undefined, "onProgress is not sent");
});

test("progress through the extension, as response or progress messages; a throwing handler changes nothing", async () => {
  for (const kind of ["response", "progress"]) {
    const { c, win } = viaExt((r) => {
      setTimeout(() => {
        for (const fn of ["first", "second"]) win.postMessage({ kyso: kind, id: r.id, progress: { done: fn === "first" ? 1 : 2, total: 2 } }, "*");
        setTimeout(() => win.postMessage({ kyso: "response", id: r.id, ok: true, result: { pdf: "AAAA" } }, "*"), 5);
      });
      return null;
    });
    const seen = [];
    const r = await c.signPdf({ certificateId: "ab", pdf: new Uint8Array([37, 80, 68, 70]), onProgress: (p) => { seen.push(p); throw new Error("page bug"); } });
    assert.deepEqual(r, { pdf: "AAAA" }, kind);
    assert.deepEqual(seen, [{ done: 1, total: 2 }, { done: 2, total: 2 }], kind);
  }
});

test("no time limit once a request is sent: a batch answered hours later still settles", async (t) => {
  let answer = null;
  const { c } = viaWS((req, send) => {
    answer = () => send({ id: req.id, ok: true, result: { signatures: ["AAAA"] } });
  });
  const p = c.signBatch({ certificateId: "ab", hashes: hashes(1), hashFunction: "SHA-256" });
  while (!answer) await wait(5);
  let settled = false;
  p.then(() => { settled = true; }, () => { settled = true; });
  t.mock.timers.enable({ apis: ["setTimeout"] });
  t.mock.timers.tick(3 * 3600 * 1000);
  await new Promise((r) => setImmediate(r));
  assert.equal(settled, false);
  answer();
  t.mock.timers.tick(1);
  assert.deepEqual(await p, { signatures: ["AAAA"] });
});

test("signPdf: a File, bytes or base64 become base64, fileName comes from the File, documents convert each", async () => {
  const seen = [];
  const { c } = viaWS((req) => { seen.push(req); return { id: req.id, ok: true, result: { pdf: b64("%PDF signed") } }; });
  const file = new File(["%PDF-1.7 hello"], "to-khai.pdf", { type: "application/pdf" });
  await c.signPdf({ certificateId: "ab", pdf: file, reason: "Phê duyệt", stamp: { page: -1, image: new Uint8Array([137, 80, 78, 71]) } });
  assert.deepEqual(seen[0].params, { certificateId: "ab", pdf: b64("%PDF-1.7 hello"), fileName: "to-khai.pdf",
    reason: "Phê duyệt", stamp: { page: -1, image: toBase64(new Uint8Array([137, 80, 78, 71])) } });
  await c.signPdf({ certificateId: "ab", pdf: b64("%PDF"), fileName: "given.pdf", stamp: null });
  assert.deepEqual(seen[1].params, { certificateId: "ab", pdf: b64("%PDF"), fileName: "given.pdf", stamp: null });
  await c.signPdf({ certificateId: "ab", description: "Hồ sơ", documents: [{ pdf: file }, { pdf: new TextEncoder().encode("%PDF-2"), stamp: null }] });
  assert.deepEqual(seen[2].params, { certificateId: "ab", description: "Hồ sơ", documents: [
    { pdf: b64("%PDF-1.7 hello"), fileName: "to-khai.pdf" }, { pdf: b64("%PDF-2"), stamp: null }] });
  for (const bad of [{ pdf: file }, { certificateId: "ab" }, { certificateId: "ab", pdf: file, documents: [] },
    { certificateId: "ab", documents: "x" }, { certificateId: "ab", pdf: 42 }, null]) {
    await assert.rejects(c.signPdf(bad), { code: "BAD_REQUEST" }, JSON.stringify(bad));
  }
  assert.equal(seen.length, 3, "bad input is refused before anything is sent");
});

test("signPdfFile gives the signed PDF as a Blob", async () => {
  const signed = new Uint8Array(70000).map((_, i) => i * 13);
  const { c } = viaExt((r) => ({ id: r.id, ok: true, result: { pdf: toBase64(signed) } }));
  const blob = await c.signPdfFile(new Blob(["%PDF"]), { certificateId: "ab" });
  assert.equal(blob.type, "application/pdf");
  assert.deepEqual(new Uint8Array(await blob.arrayBuffer()), signed);
  await assert.rejects(c.signPdfFile(new Blob(["%PDF"]), {}), { code: "BAD_REQUEST" });
});

test("signXml: text stays text, a Blob or bytes are read as UTF-8, not UTF-8 is refused", async () => {
  const seen = [];
  const { c } = viaExt((r) => { seen.push(r); return { id: r.id, ok: true, result: { xml: "<HDon>đã ký</HDon>" } }; });
  const xml = '<HDon><DLHDon Id="data">Công ty</DLHDon><DSCKS><NBan/></DSCKS></HDon>';
  const r = await c.signXml({ certificateId: "ab", xml, reference: "#data", parent: "/HDon/DSCKS/NBan", signingTime: true });
  assert.equal(r.xml, "<HDon>đã ký</HDon>");
  assert.deepEqual(seen[0].params, { certificateId: "ab", xml, reference: "#data", parent: "/HDon/DSCKS/NBan", signingTime: true });
  await c.signXml({ certificateId: "ab", documents: [{ xml: new File([xml], "hd1.xml") }, { xml: new TextEncoder().encode(xml) }] });
  assert.deepEqual(seen[1].params.documents, [{ xml, fileName: "hd1.xml" }, { xml }]);
  await assert.rejects(c.signXml({ certificateId: "ab", xml: new Uint8Array([0xff, 0xfe, 0x3c]) }), { code: "BAD_REQUEST" });
  const blob = await c.signXmlFile(new Blob([xml]), { certificateId: "ab", parent: "/HDon/DSCKS/NBan" });
  assert.equal(blob.type, "application/xml");
  assert.equal(await blob.text(), "<HDon>đã ký</HDon>");
});

test("signCms: hash or hashes, not both; signCmsFile hashes the file with WebCrypto and gives a .p7s Blob", async () => {
  const seen = [];
  const { c } = viaExt((r) => { seen.push(r); return { id: r.id, ok: true, result: r.params.hash ? { cms: b64("p7s") } : { cmsList: [b64("a")] } }; });
  assert.deepEqual(await c.signCms({ certificateId: "ab", hash: new Uint8Array(32), hashFunction: "SHA-256", fileName: "a.pdf" }), { cms: b64("p7s") });
  assert.deepEqual(await c.signCms({ certificateId: "ab", hashes: hashes(2), hashFunction: "SHA-256" }), { cmsList: [b64("a")] });
  await assert.rejects(c.signCms({ certificateId: "ab", hash: new Uint8Array(32), hashes: [], hashFunction: "SHA-256" }), { code: "BAD_REQUEST" });
  await assert.rejects(c.signCms({ certificateId: "ab", hashFunction: "SHA-256" }), { code: "BAD_REQUEST" });
  const content = "Nội dung văn bản ".repeat(1000);
  const blob = await c.signCmsFile(new File([content], "van-ban.docx"), { certificateId: "ab", description: "Công văn" });
  assert.equal(blob.type, "application/pkcs7-signature");
  assert.equal(await blob.text(), "p7s");
  const last = seen.at(-1).params;
  assert.equal(last.hash, createHash("sha256").update(content).digest("base64"));
  assert.deepEqual([last.hashFunction, last.fileName, last.description], ["SHA-256", "van-ban.docx", "Công văn"]);
  await c.signCmsFile(new Uint8Array([1, 2, 3]), { certificateId: "ab", hashFunction: "SHA-384" });
  assert.equal(seen.at(-1).params.hash, createHash("sha384").update(Buffer.from([1, 2, 3])).digest("base64"));
  await assert.rejects(c.signCmsFile(new Uint8Array(1), { certificateId: "ab", hashFunction: "SHA3-256" }), { code: "BAD_REQUEST" });
});

test("readAsBase64 and base64ToBlob round-trip a 20 MiB document", async () => {
  const big = new Uint8Array(20 << 20).map((_, i) => (i * 2654435761) >>> 24);
  const s = await readAsBase64(new Blob([big]));
  assert.equal(s, Buffer.from(big).toString("base64"));
  assert.equal(await readAsBase64(big.buffer), s);
  assert.equal(await readAsBase64(s), s);
  const back = base64ToBlob(s, "application/pdf");
  assert.equal(back.type, "application/pdf");
  assert.ok(Buffer.from(await back.arrayBuffer()).equals(Buffer.from(big)));
  await assert.rejects(readAsBase64("not base64"), { code: "BAD_REQUEST" });
  await assert.rejects(readAsBase64({}), { code: "BAD_REQUEST" });
});

test("parameters that cannot be posted are BAD_REQUEST, not a thrown DataCloneError", async () => {
  const { c } = viaExt(ok({}));
  await assert.rejects(c.signPdf({ certificateId: "ab", pdf: "AAAA", reason: () => 1 }), { code: "BAD_REQUEST" });
});

test("an extension older than the library is told to the page, and still used; an answer in parts from it is INTERNAL", async () => {
  const seen = [];
  const { c, WS } = viaExt((r) => (r.op === "signPdf"
    ? { id: r.id, part: 0, parts: 3, data: "AAAA" }
    : { id: r.id, ok: true, result: { version: "0.1.0" } }), "0.0.9", { onStateChange: (s, i) => seen.push([s, i]) });
  assert.equal(MIN_EXTENSION_VERSION, "0.1.0");
  assert.deepEqual(await c.version(), { version: "0.1.0" });
  assert.deepEqual(seen, [[states.EXTENSION_OUTDATED, { version: "0.0.9", required: "0.1.0", outdated: true }]]);
  assert.deepEqual((await c.detect()).extension, { version: "0.0.9", required: "0.1.0", outdated: true });
  await assert.rejects(c.signPdf({ certificateId: "ab", pdf: "AAAA" }), (e) => e.code === "INTERNAL" && /too old/.test(e.detail));
  assert.equal(WS.state.created, 0);
  // A current (or newer) extension is not reported.
  const now = [];
  const cur = viaExt(ok({}), "0.1.3", { onStateChange: (s) => now.push(s) }).c;
  await cur.version();
  assert.deepEqual(now, []);
  assert.equal((await cur.detect()).extension.outdated, false);
});
