#!/usr/bin/env node
// Builds the Kyso extension for each browser family from one source:
//   src/manifest.base.json + src/*.js + ../internal/extid/ids.json (the one
//   id source, which the Go side embeds) + package.json (version)
//   → build/chromium/  (Chrome, Edge: background service worker, "key" so
//                       the unpacked extension has the pinned id)
//   → build/firefox/   (background scripts, gecko id signer@kyso.vn)
// With --zip DIR it also writes DIR/kyso-chromium.zip (without "key": the
// stores assign their own id) and DIR/kyso-firefox.zip, using web-ext, and
// the self-hosted build below into DIR.
// With --crx DIR (implied by --zip) it writes the self-hosted enterprise
// build: DIR/kyso-chromium.crx (CRX3 of the keyless build, signed with the
// key below) and DIR/kyso-chromium-updates.xml (the update manifest an
// admin serves beside it). The key: --key PEM, else the PEM file named by
// $KYSO_CRX_KEY (a release: Kyso's key, so the id is the pinned one), else
// a throwaway key made now (CI) — its id is not the pinned one, which is
// what the system policy's extensionIds is for. The CRX's address in the
// update manifest: --codebase URL, else $KYSO_CRX_URL, else a placeholder.
// --out DIR builds into DIR instead of extension/build (tests).
// Usage: node build.js [--out DIR] [--zip ../dist] [--crx DIR] [--key PEM] [--codebase URL]
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { idOf, packCrx3, updateManifest, zipDir } from "./crx.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const read = (f) => JSON.parse(fs.readFileSync(path.join(here, f), "utf8"));
const ids = read("../internal/extid/ids.json");
const pkg = read("package.json");
const base = read("src/manifest.base.json");

// ESR 140: MV3 content-script host access granted at install, and the
// first to know data_collection_permissions (Android: 142; native messaging
// does not exist there, but the key must be valid for the listing).
const FIREFOX_MIN = "140.0";
const FIREFOX_ANDROID_MIN = "142.0";
const CHROME_MIN = "111";

function manifest(family, { withKey }) {
  const m = { ...base, version: pkg.version };
  if (family === "chromium") {
    m.background = { service_worker: "background.js" };
    m.minimum_chrome_version = CHROME_MIN;
    if (withKey) m.key = ids.development.chromiumKey;
  } else {
    m.background = { scripts: ["background.js"] };
    m.browser_specific_settings = {
      gecko: {
        id: ids.firefox.id,
        strict_min_version: FIREFOX_MIN,
        data_collection_permissions: { required: ["none"] },
      },
      gecko_android: { strict_min_version: FIREFOX_ANDROID_MIN },
    };
  }
  return m;
}

function build(family, dir, opts) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify(manifest(family, opts), null, 2) + "\n");
  const bg = fs.readFileSync(path.join(here, "src/background.js"), "utf8").replace("__KYSO_HOST_NAME__", ids.hostName);
  fs.writeFileSync(path.join(dir, "background.js"), bg);
  fs.copyFileSync(path.join(here, "src/content.js"), path.join(dir, "content.js"));
  return dir;
}

function zip(dir, out) {
  const webExt = path.join(here, "node_modules", ".bin", "web-ext");
  execFileSync(webExt, ["build", "--source-dir", dir, "--artifacts-dir", path.dirname(out),
    "--filename", path.basename(out), "--overwrite-dest"], { stdio: ["ignore", "ignore", "inherit"] });
}

const DEFAULT_CODEBASE = "https://extensions.example.vn/kyso/kyso-chromium.crx";

// crxKey is the signing key of the self-hosted CRX and where it came from.
function crxKey(file) {
  file = file || process.env.KYSO_CRX_KEY;
  if (file) return { key: crypto.createPrivateKey(fs.readFileSync(file)), from: file };
  const { privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  const keep = path.join(out, "crx-throwaway.pem");
  fs.writeFileSync(keep, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  return { key: privateKey, from: "a throwaway key made now (" + keep + ")" };
}

// selfHosted writes DIR/kyso-chromium.crx and DIR/kyso-chromium-updates.xml.
function selfHosted(dir, keyFile, codebase) {
  const { key, from } = crxKey(keyFile);
  const { crx, id } = packCrx3(zipDir(path.join(out, "chromium-store")), key);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "kyso-chromium.crx"), crx);
  fs.writeFileSync(path.join(dir, "kyso-chromium-updates.xml"),
    updateManifest(id, pkg.version, codebase || process.env.KYSO_CRX_URL || DEFAULT_CODEBASE));
  const pinned = id === ids.development.chromiumId;
  console.log(`wrote ${path.join(dir, "kyso-chromium.crx")} (id ${id}, signed with ${from}) and kyso-chromium-updates.xml`);
  if (!pinned) {
    console.log(`note: ${id} is not Kyso's pinned id ${ids.development.chromiumId}: list it in the system policy's extensionIds`);
  }
  return id;
}

const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};

const out = path.resolve(arg("--out") || path.join(here, "build"));
build("chromium", path.join(out, "chromium"), { withKey: true });
build("firefox", path.join(out, "firefox"), {});
build("chromium", path.join(out, "chromium-store"), { withKey: false });
if (idOf(Buffer.from(ids.development.chromiumKey, "base64")) !== ids.development.chromiumId) {
  throw new Error("ids.json: development.chromiumId is not the id of development.chromiumKey");
}
console.log("built " + path.join(out, "chromium") + " and " + path.join(out, "firefox"));

const z = process.argv.indexOf("--zip");
if (z > 0) {
  const dist = path.resolve(process.argv[z + 1] || path.join(here, "..", "dist"));
  fs.mkdirSync(dist, { recursive: true });
  zip(path.join(out, "chromium-store"), path.join(dist, "kyso-chromium.zip"));
  zip(path.join(out, "firefox"), path.join(dist, "kyso-firefox.zip"));
  console.log("wrote " + path.join(dist, "kyso-chromium.zip") + " and " + path.join(dist, "kyso-firefox.zip"));
  if (!process.argv.includes("--crx")) selfHosted(dist, arg("--key"), arg("--codebase"));
}
if (process.argv.includes("--crx")) selfHosted(path.resolve(arg("--crx")), arg("--key"), arg("--codebase"));
