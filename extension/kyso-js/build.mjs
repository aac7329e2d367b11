#!/usr/bin/env node
// Builds the npm package "kyso" (the page library) from one source, with
// Node alone (no bundler):
//   ../kyso.js + ../messages.json → dist/kyso.mjs      ES module (import)
//                                   dist/kyso.cjs      CommonJS (require)
//                                   dist/kyso.iife.js  classic script: window.kyso
//   ../kyso.d.ts                  → dist/kyso.d.ts, dist/kyso.d.cts
//   ../messages.json              → dist/messages.json
// and LICENSE from the repository root when there is one. It refuses to
// build when the versions of ../package.json (the extension's, which is
// Kyso's release), ./package.json and kyso.js's VERSION differ, or when
// messages.json lacks a code.
// Usage: node build.mjs [--out DIR]
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const ext = path.join(here, "..");
const read = (f) => fs.readFileSync(f, "utf8");
const json = (f) => JSON.parse(read(f));

function fail(msg) {
  console.error("kyso-js build: " + msg);
  process.exit(1);
}

// EXPORT matches the only export forms kyso.js uses (its header says so).
const EXPORT = /^export (const|let|function|async function|class) ([A-Za-z_$][\w$]*)/gm;
const MARKER = /\/\*@kyso:messages\*\/[^]*?\/\*@end\*\//;

export async function build(out) {
  const pkg = json(path.join(here, "package.json"));
  const release = json(path.join(ext, "package.json")).version;
  const source = read(path.join(ext, "kyso.js"));
  const lib = await import(pathToFileURL(path.join(ext, "kyso.js")).href);
  if (pkg.version !== release || lib.VERSION !== release) {
    fail(`versions differ: extension/package.json ${release}, kyso-js/package.json ${pkg.version}, kyso.js VERSION ${lib.VERSION}`);
  }

  const messages = json(path.join(ext, "messages.json"));
  for (const lang of ["vi", "en"]) {
    for (const code of Object.keys(lib.errors)) {
      const t = messages[lang] && messages[lang][code];
      if (typeof t !== "string" || !t.trim()) fail(`messages.json has no ${lang} text for ${code}`);
    }
  }
  if (source.match(new RegExp(MARKER, "g"))?.length !== 1) fail("kyso.js must hold the messages marker once");
  const banner = `/*! kyso ${pkg.version} — the Kyso page library (https://www.apache.org/licenses/LICENSE-2.0). Built from extension/kyso.js; do not edit. */\n`;
  const esm = banner + source.replace(MARKER, () => `/*@kyso:messages*/ ${JSON.stringify(messages)} /*@end*/`);

  // The same code without `export`, for the classic script and CommonJS.
  const names = [...esm.matchAll(EXPORT)].map((m) => m[2]);
  const body = esm.replace(EXPORT, "$1 $2");
  if (/^\s*(export|import)\b/m.test(body)) fail("kyso.js has an export or import form the build does not know");
  const api = `{ ${names.join(", ")} }`;
  const cjs = `"use strict";\n${body}\nmodule.exports = ${api};\n`;
  const iife = `${banner}(function (global) {\n"use strict";\n${body}\nglobal.kyso = Object.freeze(${api});\n})(typeof globalThis !== "undefined" ? globalThis : this);\n`;

  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  const write = (f, s) => fs.writeFileSync(path.join(out, f), s);
  write("kyso.mjs", esm);
  write("kyso.cjs", cjs);
  write("kyso.iife.js", iife);
  const types = read(path.join(ext, "kyso.d.ts"));
  write("kyso.d.ts", types);
  write("kyso.d.cts", types);
  write("messages.json", JSON.stringify(messages, null, 2) + "\n");

  // The ES module's exports are what the other two builds export.
  const built = Object.keys(await import(pathToFileURL(path.join(out, "kyso.mjs")).href + "?" + Date.now())).sort();
  if (built.join() !== [...names].sort().join()) fail(`exports found (${names}) differ from the module's (${built})`);

  const license = path.join(ext, "..", "LICENSE");
  if (fs.existsSync(license)) fs.copyFileSync(license, path.join(here, "LICENSE"));
  return { out, names, version: pkg.version };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const i = process.argv.indexOf("--out");
  const out = path.resolve(i > 0 ? process.argv[i + 1] : path.join(here, "dist"));
  const r = await build(out);
  console.error(`built kyso ${r.version} into ${r.out} (${r.names.length} exports)`);
}
