// The self-hosted CRX: build.js packs the keyless Chromium build into a
// CRX3 signed with the given key. Checked here by our reader and, apart
// from it, by openssl (the RSA signature over Chromium's signed payload)
// and unzip; Chromium itself installs it in e2e/selfhosted_test.go.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { idOf, packCrx3, readFields, updateManifest, verifyCrx3, zipDir } from "../crx.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "kyso-crx-"));

function have(cmd) {
  try {
    execFileSync("sh", ["-c", "command -v " + cmd], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

test("build.js --crx packs a CRX3 that verifies, with the key's id and its update manifest", () => {
  const dir = tmp();
  const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  const keyFile = path.join(dir, "key.pem");
  fs.writeFileSync(keyFile, privateKey.export({ type: "pkcs8", format: "pem" }));
  const out = path.join(dir, "www");
  execFileSync("node", [path.join(here, "..", "build.js"), "--out", path.join(dir, "build"), "--crx", out,
    "--key", keyFile, "--codebase", "https://ext.example.vn/kyso/kyso-chromium.crx"], { stdio: "ignore" });
  const crx = fs.readFileSync(path.join(out, "kyso-chromium.crx"));
  const id = idOf(publicKey.export({ type: "spki", format: "der" }));
  const { id: got, zip } = verifyCrx3(crx);
  assert.equal(got, id);
  assert.match(id, /^[a-p]{32}$/);
  const xml = fs.readFileSync(path.join(out, "kyso-chromium-updates.xml"), "utf8");
  const version = JSON.parse(fs.readFileSync(path.join(here, "..", "package.json"), "utf8")).version;
  assert.ok(xml.includes(`<app appid='${id}'>`) && xml.includes(`codebase='https://ext.example.vn/kyso/kyso-chromium.crx' version='${version}'`), xml);
  // The zip: what the keyless build holds, and unzip agrees.
  const zfile = path.join(dir, "content.zip");
  fs.writeFileSync(zfile, zip);
  if (have("unzip")) {
    const list = execFileSync("unzip", ["-Z1", zfile], { encoding: "utf8" }).trim().split("\n");
    assert.deepEqual(list, ["background.js", "content.js", "manifest.json"]);
    execFileSync("unzip", ["-tq", zfile]);
    const manifest = JSON.parse(execFileSync("unzip", ["-p", zfile, "manifest.json"], { encoding: "utf8" }));
    assert.equal(manifest.key, undefined, "the CRX's id comes from its signature, not a manifest key");
  }
});

test("openssl verifies the signature over Chromium's signed payload", { skip: !have("openssl") }, () => {
  const dir = tmp();
  const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  fs.writeFileSync(path.join(dir, "a.txt"), "ký số\n");
  const zip = zipDir(dir);
  const { crx } = packCrx3(zip, privateKey);
  // Take the envelope apart by hand.
  const hlen = crx.readUInt32LE(8);
  const header = readFields(crx.subarray(12, 12 + hlen));
  const proof = readFields(header.find((f) => f.num === 2).bytes);
  const shd = header.find((f) => f.num === 10000).bytes;
  const len = Buffer.alloc(4);
  len.writeUInt32LE(shd.length);
  fs.writeFileSync(path.join(dir, "payload"), Buffer.concat([Buffer.from("CRX3 SignedData\x00", "latin1"), len, shd, crx.subarray(12 + hlen)]));
  fs.writeFileSync(path.join(dir, "sig"), proof.find((f) => f.num === 2).bytes);
  fs.writeFileSync(path.join(dir, "pub.pem"), publicKey.export({ type: "spki", format: "pem" }));
  const out = execFileSync("openssl", ["dgst", "-sha256", "-verify", path.join(dir, "pub.pem"), "-signature",
    path.join(dir, "sig"), path.join(dir, "payload")], { encoding: "utf8" });
  assert.match(out, /Verified OK/);
  // crx_id is the first 16 bytes of the key's SHA-256.
  const crxId = readFields(shd).find((f) => f.num === 1).bytes;
  assert.deepEqual(crxId, crypto.createHash("sha256").update(proof.find((f) => f.num === 1).bytes).digest().subarray(0, 16));
});

test("a tampered CRX or another key's proof does not verify", () => {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, "a.txt"), "x".repeat(1000));
  const zip = zipDir(dir);
  const { privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  const { crx } = packCrx3(zip, privateKey);
  const bad = Buffer.from(crx);
  bad[bad.length - 30] ^= 1; // in the zip
  assert.throws(() => verifyCrx3(bad), /does not verify/);
  assert.throws(() => verifyCrx3(Buffer.concat([Buffer.from("Cr24"), crx.subarray(4)]).fill(2, 4, 5)), /version/);
  assert.throws(() => verifyCrx3(Buffer.from("PK\x03\x04")), /Cr24/);
  const ec = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
  assert.throws(() => packCrx3(zip, ec), /RSA/);
});

test("the zip is the same for the same folder", () => {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, "b.js"), "b");
  fs.mkdirSync(path.join(dir, "sub"));
  fs.writeFileSync(path.join(dir, "sub", "a.js"), "a");
  const one = zipDir(dir);
  fs.utimesSync(path.join(dir, "b.js"), new Date(2000, 1, 1), new Date(2000, 1, 1));
  assert.deepEqual(zipDir(dir), one);
});

test("the update manifest escapes what it quotes", () => {
  const xml = updateManifest("abcdefghijklmnopabcdefghijklmnop", "1.2.3", "https://x.vn/a?b=1&c='2'");
  assert.ok(xml.includes("codebase='https://x.vn/a?b=1&amp;c=&apos;2&apos;'"), xml);
});
