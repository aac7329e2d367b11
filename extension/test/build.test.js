// The npm package's build (kyso-js/build.mjs): messages.json embedded in
// all three builds, Vietnamese or English by navigator.language, the same
// exports everywhere, the classic script defining window.kyso only, and one
// version across the extension, the package and kyso.js. `make test` also
// packs the package and installs it (kyso-js/check-pack.mjs).
import assert from "node:assert/strict";
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import vm from "node:vm";
import { build } from "../kyso-js/build.mjs";
import { fakeNavigator, fakeWebSocket, fakeWindow } from "./fakes.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const ext = path.join(here, "..");
const messages = JSON.parse(fs.readFileSync(path.join(ext, "messages.json"), "utf8"));
let out, esm, cjs;

before(async () => {
  out = fs.mkdtempSync(path.join(os.tmpdir(), "kyso-build-"));
  await build(out);
  esm = await import(pathToFileURL(path.join(out, "kyso.mjs")).href);
  cjs = createRequire(import.meta.url)(path.join(out, "kyso.cjs"));
});
after(() => fs.rmSync(out, { recursive: true, force: true }));

// iife runs the classic-script build in a fresh context whose browser
// language is lang, and returns its window.kyso.
function iife(lang) {
  const ctx = vm.createContext({ navigator: { language: lang }, setTimeout, clearTimeout, Blob, TextDecoder, TextEncoder, btoa, atob, structuredClone });
  ctx.window = ctx;
  vm.runInContext(fs.readFileSync(path.join(out, "kyso.iife.js"), "utf8"), ctx);
  return ctx.kyso;
}

test("messages.json has both languages for every error code, and nothing but text", () => {
  assert.deepEqual(Object.keys(messages).sort(), ["en", "vi"]);
  for (const code of Object.keys(esm.errors)) {
    for (const lang of ["vi", "en"]) assert.ok(typeof messages[lang][code] === "string" && messages[lang][code].trim(), `${lang}.${code}`);
    assert.notEqual(messages.vi[code], messages.en[code], code);
  }
  assert.equal(Object.keys(esm.errors).length, 20);
  assert.equal(esm.errors.NOT_INSTALLED, "NOT_INSTALLED");
  assert.ok(Object.isFrozen(esm.errors));
});

test("the builds embed the messages; the language follows navigator.language", async () => {
  assert.equal(esm.message("LOCAL_NETWORK_BLOCKED", "vi-VN"), messages.vi.LOCAL_NETWORK_BLOCKED);
  assert.equal(esm.message("LOCAL_NETWORK_BLOCKED", "en-GB"), messages.en.LOCAL_NETWORK_BLOCKED);
  assert.equal(esm.message("NO_TOKEN", "fr"), messages.en.NO_TOKEN, "other languages fall back to English");
  assert.equal(cjs.message("BUSY", "vi"), messages.vi.BUSY);
  for (const [lang, want] of [["vi-VN", "vi"], ["vi", "vi"], ["en-US", "en"], ["de", "en"]]) {
    const k = iife(lang);
    assert.equal(k.language(), want, lang);
    assert.equal(k.message("USER_CANCELLED"), messages[want].USER_CANCELLED, lang);
    // kyso.js's own errors speak the browser's language.
    const c = k.createClient({ window: fakeWindow(null), navigator: fakeNavigator({ "loopback-network": "denied" }, lang),
      WebSocket: fakeWebSocket(() => null, { mode: "fail" }), helloTimeout: 5 });
    await assert.rejects(c.version(), (e) => e.code === "LOCAL_NETWORK_BLOCKED" && e.message === messages[want].LOCAL_NETWORK_BLOCKED && e instanceof k.KysoError);
  }
});

test("Kyso's own message wins over the table (it may say why); a missing one is filled from the table", () => {
  const withText = esm.settle({ id: "a", ok: false, error: { code: "BAD_DOCUMENT", message: "Tệp PDF đã được mã hóa." } }, "en");
  assert.equal(withText.error.message, "Tệp PDF đã được mã hóa.");
  const without = esm.settle({ id: "a", ok: false, error: { code: "BAD_DOCUMENT" } }, "vi");
  assert.equal(without.error.message, messages.vi.BAD_DOCUMENT);
  const ni = esm.settle({ id: "a", ok: false, error: { code: "NOT_INSTALLED", message: "Specified native messaging host not found." } }, "vi");
  assert.equal(ni.error.message, messages.vi.NOT_INSTALLED);
  assert.equal(ni.error.detail, "Specified native messaging host not found.");
});

test("ES module, CommonJS and window.kyso export the same; the classic script adds nothing else", () => {
  const names = Object.keys(esm).sort();
  assert.deepEqual(Object.keys(cjs).sort(), names);
  const ctx = vm.createContext({ setTimeout, clearTimeout });
  ctx.window = ctx;
  const before = Object.keys(ctx);
  vm.runInContext(fs.readFileSync(path.join(out, "kyso.iife.js"), "utf8"), ctx);
  assert.deepEqual(Object.keys(ctx).filter((k) => !before.includes(k)), ["kyso"]);
  assert.deepEqual(Object.keys(ctx.kyso).sort(), names);
  for (const f of ["signPdf", "signCms", "signXml", "signPdfFile", "signXmlFile", "signCmsFile", "readAsBase64", "base64ToBlob", "detect", "onStateChange"]) {
    assert.equal(typeof esm[f], "function", f);
  }
  assert.equal(fs.readFileSync(path.join(out, "kyso.d.ts"), "utf8"), fs.readFileSync(path.join(ext, "kyso.d.ts"), "utf8"));
});

test("one version: the extension's (Kyso's release), the npm package's and kyso.js's VERSION", () => {
  const release = JSON.parse(fs.readFileSync(path.join(ext, "package.json"), "utf8")).version;
  const pkg = JSON.parse(fs.readFileSync(path.join(ext, "kyso-js", "package.json"), "utf8"));
  assert.equal(pkg.version, release);
  assert.equal(esm.VERSION, release);
  assert.match(release, /^\d+\.\d+\.\d+$/);
  // The extension must be at least the library's MAJOR.MINOR.
  const [maj, min] = release.split(".");
  assert.equal(esm.MIN_EXTENSION_VERSION, `${maj}.${min}.0`);
  assert.equal(pkg.name, "kyso");
  assert.equal(pkg.license, "Apache-2.0");
});

test("compareVersions reads MAJOR.MINOR.PATCH like the browsers' manifest versions", () => {
  const c = esm.compareVersions;
  assert.equal(c("0.1.0", "0.1.0"), 0);
  assert.equal(c("0.0.9", "0.1.0"), -1);
  assert.equal(c("0.10.0", "0.9.9"), 1);
  assert.equal(c("1.2", "1.2.0"), 0);
  assert.equal(c("1.2.3.4", "1.2.3"), 0);
  assert.equal(c("1.4.2-dev+abc", "1.4.2"), 0);
  assert.equal(c("2.0.0", "10.0.0"), -1);
});
