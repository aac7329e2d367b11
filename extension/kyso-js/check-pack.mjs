#!/usr/bin/env node
// What `make test` checks of the npm package: `npm pack` (which builds
// through prepack) gives exactly the files a portal needs, and the tarball,
// installed into an empty project as a portal would, works as an ES module
// (import), as CommonJS (require), as a classic script (window.kyso), and
// type-checks with TypeScript in each of those forms (typetest/).
// Usage: node check-pack.mjs [--keep DIR] (DIR receives the .tgz)
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import vm from "node:vm";

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = JSON.parse(fs.readFileSync(path.join(here, "package.json"), "utf8"));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kyso-pack-"));
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });

function fail(msg) {
  console.error("kyso-js pack check: " + msg);
  process.exit(1);
}

try {
  // 1. The tarball's files, exactly.
  const [packed] = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", tmp], here));
  const files = packed.files.map((f) => f.path).sort();
  const want = ["README.md", "package.json", "dist/kyso.cjs", "dist/kyso.d.cts", "dist/kyso.d.ts",
    "dist/kyso.iife.js", "dist/kyso.mjs", "dist/messages.json"];
  if (fs.existsSync(path.join(here, "..", "..", "LICENSE"))) want.push("LICENSE");
  want.sort();
  if (files.join("\n") !== want.join("\n")) fail(`tarball files:\n  ${files.join("\n  ")}\nwant:\n  ${want.join("\n  ")}`);
  if (packed.name !== "kyso" || packed.version !== pkg.version) fail(`packed ${packed.name}@${packed.version}`);
  const tgz = path.join(tmp, packed.filename);

  // 2. Installed into an empty project, offline (the package has no dependencies).
  const app = path.join(tmp, "app");
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "portal", private: true }));
  run("npm", ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", tgz], app);
  const req = createRequire(path.join(app, "index.js"));
  const cjs = req("kyso");
  const esm = await import(pathToFileURL(req.resolve("kyso").replace(/kyso\.cjs$/, "kyso.mjs")).href);
  const viaExports = await import(pathToFileURL(path.join(app, "node_modules", "kyso", "dist", "kyso.mjs")).href);
  const names = Object.keys(esm).sort().join();
  if (Object.keys(cjs).sort().join() !== names) fail("require('kyso') and import('kyso') export different names");
  if (viaExports.VERSION !== pkg.version || cjs.VERSION !== pkg.version) fail("VERSION differs from package.json");
  if (esm.errors.LOCAL_NETWORK_BLOCKED !== "LOCAL_NETWORK_BLOCKED") fail("errors constants missing");
  if (!/Kyso/.test(cjs.message("NOT_INSTALLED", "vi")) || cjs.message("NOT_INSTALLED", "vi") === cjs.message("NOT_INSTALLED", "en")) {
    fail("messages are not embedded in both languages");
  }
  // The import condition, as Node resolves it from another ES module.
  const probe = path.join(app, "probe.mjs");
  fs.writeFileSync(probe, 'import * as k from "kyso"; import m from "kyso/messages.json" with { type: "json" };\n' +
    'console.log(JSON.stringify({ n: Object.keys(k).length, v: k.VERSION, vi: m.vi.NOT_INSTALLED === k.message("NOT_INSTALLED", "vi") }));\n');
  const seen = JSON.parse(run(process.execPath, [probe], app));
  if (seen.n !== Object.keys(esm).length || seen.v !== pkg.version || !seen.vi) fail("import 'kyso' from an ES module: " + JSON.stringify(seen));

  // 3. The classic script defines window.kyso and nothing else.
  const iife = fs.readFileSync(path.join(app, "node_modules", "kyso", "dist", "kyso.iife.js"), "utf8");
  const win = { addEventListener() {}, postMessage() {}, navigator: { language: "vi-VN" } };
  const ctx = vm.createContext({ window: win, setTimeout, clearTimeout, Blob, TextDecoder, btoa, atob });
  ctx.globalThis = ctx;
  vm.runInContext(iife, ctx);
  const globals = Object.keys(ctx).filter((k) => !["window", "setTimeout", "clearTimeout", "Blob", "TextDecoder", "btoa", "atob", "globalThis"].includes(k));
  if (globals.join() !== "kyso") fail("the classic script defined " + globals.join());
  if (Object.keys(ctx.kyso).sort().join() !== names) fail("window.kyso and the ES module export different names");
  if (!Object.isFrozen(ctx.kyso)) fail("window.kyso is not frozen");

  // 4. TypeScript: ES module, CommonJS and global-script consumers, with
  // Node's resolution and with a bundler's.
  for (const f of fs.readdirSync(path.join(here, "typetest"))) fs.copyFileSync(path.join(here, "typetest", f), path.join(app, f));
  const tsc = path.join(here, "node_modules", "typescript", "bin", "tsc");
  if (!fs.existsSync(tsc)) fail("typescript is not installed: run npm ci in extension/kyso-js");
  const tsconfig = (module, resolution, files) => JSON.stringify({ files, compilerOptions: {
    noEmit: true, strict: true, skipLibCheck: false, lib: ["es2022", "dom"], types: [], target: "es2022",
    module, moduleResolution: resolution } });
  for (const [module, resolution, files] of [["node16", "node16", ["esm.mts", "cjs.cts"]], ["esnext", "bundler", ["esm.mts", "global.ts"]]]) {
    fs.writeFileSync(path.join(app, "tsconfig.json"), tsconfig(module, resolution, files));
    try {
      execFileSync(process.execPath, [tsc, "-p", "."], { cwd: app, encoding: "utf8" });
    } catch (e) {
      fail(`TypeScript (${resolution}) refuses the package:\n${e.stdout}`);
    }
  }

  const keep = process.argv.indexOf("--keep");
  if (keep > 0) {
    fs.mkdirSync(process.argv[keep + 1], { recursive: true });
    fs.copyFileSync(tgz, path.join(process.argv[keep + 1], packed.filename));
  }
  console.log(`npm pack: ${packed.filename}, ${files.length} files, ${packed.size} bytes packed, ${packed.unpackedSize} unpacked; import, require, window.kyso and TypeScript (node16, bundler) all check`);
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
