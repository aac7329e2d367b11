#!/usr/bin/env node
// Builds the Kyso extension for each browser family from one source:
//   src/manifest.base.json + src/*.js + ids.json + package.json (version)
//   → build/chromium/  (Chrome, Edge: background service worker, "key" so
//                       the unpacked extension has the fixed id)
//   → build/firefox/   (background scripts, gecko id signer@kyso.vn)
// With --zip DIR it also writes DIR/kyso-chromium.zip (without "key": the
// stores assign their own id) and DIR/kyso-firefox.zip, using web-ext.
// Usage: node build.js [--zip ../dist]
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const read = (f) => JSON.parse(fs.readFileSync(path.join(here, f), "utf8"));
const ids = read("ids.json");
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
    if (withKey) m.key = ids.chromiumKey;
  } else {
    m.background = { scripts: ["background.js"] };
    m.browser_specific_settings = {
      gecko: {
        id: ids.firefox,
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

const out = path.join(here, "build");
build("chromium", path.join(out, "chromium"), { withKey: true });
build("firefox", path.join(out, "firefox"), {});
console.log("built " + path.join(out, "chromium") + " and " + path.join(out, "firefox"));

const z = process.argv.indexOf("--zip");
if (z > 0) {
  const dist = path.resolve(process.argv[z + 1] || path.join(here, "..", "dist"));
  fs.mkdirSync(dist, { recursive: true });
  zip(build("chromium", path.join(out, "chromium-store"), { withKey: false }), path.join(dist, "kyso-chromium.zip"));
  zip(path.join(out, "firefox"), path.join(dist, "kyso-firefox.zip"));
  console.log("wrote " + path.join(dist, "kyso-chromium.zip") + " and " + path.join(dist, "kyso-firefox.zip"));
}
