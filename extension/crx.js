// CRX3 packing for the self-hosted (enterprise) Chromium build, in plain
// Node: a deterministic zip of a folder, the CRX3 envelope signed with an
// RSA key, the extension id the key gives, and the update manifest (gupdate
// XML) an admin serves beside the CRX.
//
// CRX3 (Chromium components/crx_file): "Cr24", uint32 LE version 3,
// uint32 LE header length, a CrxFileHeader protobuf, then the zip.
//   CrxFileHeader { repeated AsymmetricKeyProof sha256_with_rsa = 2;
//                   bytes signed_header_data = 10000; }
//   AsymmetricKeyProof { bytes public_key = 1; bytes signature = 2; }
//   SignedData { bytes crx_id = 1; }   (signed_header_data)
// The signature is RSASSA-PKCS1-v1_5 SHA-256 over
//   "CRX3 SignedData\x00" ‖ uint32 LE len(signed_header_data) ‖
//   signed_header_data ‖ the zip,
// and crx_id is the first 16 bytes of SHA-256(public key DER), which is
// also what the id's 32 letters a–p spell.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";

// ---- zip (deflate, fixed times: the same folder gives the same bytes) ----

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function listFiles(dir, prefix = "") {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const rel = prefix + e.name;
    if (e.isDirectory()) out.push(...listFiles(path.join(dir, e.name), rel + "/"));
    else if (e.isFile()) out.push(rel);
  }
  return out;
}

// zipDir returns a zip of every file under dir (names relative, "/"
// separated, sorted), deflated, all dated 1980-01-01 00:00.
export function zipDir(dir) {
  const locals = [];
  const central = [];
  let offset = 0;
  for (const name of listFiles(dir)) {
    const data = fs.readFileSync(path.join(dir, name));
    const packed = zlib.deflateRawSync(data, { level: 9 });
    const nameBuf = Buffer.from(name, "utf8");
    const crc = crc32(data);
    const head = Buffer.alloc(30);
    head.writeUInt32LE(0x04034b50, 0);
    head.writeUInt16LE(20, 4); // version needed
    head.writeUInt16LE(0x0800, 6); // UTF-8 names
    head.writeUInt16LE(8, 8); // deflate
    head.writeUInt16LE(0, 10); // time
    head.writeUInt16LE(0x21, 12); // date 1980-01-01
    head.writeUInt32LE(crc, 14);
    head.writeUInt32LE(packed.length, 18);
    head.writeUInt32LE(data.length, 22);
    head.writeUInt16LE(nameBuf.length, 26);
    head.writeUInt16LE(0, 28);
    locals.push(head, nameBuf, packed);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(0x0314, 4); // made by: Unix, 2.0
    c.writeUInt16LE(20, 6);
    c.writeUInt16LE(0x0800, 8);
    c.writeUInt16LE(8, 10);
    c.writeUInt16LE(0, 12);
    c.writeUInt16LE(0x21, 14);
    c.writeUInt32LE(crc, 16);
    c.writeUInt32LE(packed.length, 20);
    c.writeUInt32LE(data.length, 24);
    c.writeUInt16LE(nameBuf.length, 28);
    c.writeUInt32LE((0o100644 * 0x10000) >>> 0, 38); // external attributes: a regular file, rw-r--r--
    c.writeUInt32LE(offset, 42);
    central.push(c, nameBuf);
    offset += head.length + nameBuf.length + packed.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(central.length / 2, 8);
  end.writeUInt16LE(central.length / 2, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

// ---- protobuf, the three messages above (length-delimited fields only) ----

function varint(n) {
  const out = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

function field(num, bytes) {
  return Buffer.concat([varint(num * 8 + 2), varint(bytes.length), bytes]);
}

// readFields parses length-delimited fields (the only wire type CRX3 uses);
// anything else is an error. For the tests and for checking a CRX.
export function readFields(buf) {
  const out = [];
  let i = 0;
  const readVarint = () => {
    let n = 0;
    let mul = 1;
    for (;;) {
      if (i >= buf.length) throw new Error("protobuf: truncated varint");
      const b = buf[i++];
      n += (b & 0x7f) * mul;
      if (b < 0x80) return n;
      mul *= 128;
    }
  };
  while (i < buf.length) {
    const tag = readVarint();
    if (tag % 8 !== 2) throw new Error("protobuf: wire type " + (tag % 8) + " not expected");
    const len = readVarint();
    if (i + len > buf.length) throw new Error("protobuf: truncated field");
    out.push({ num: Math.floor(tag / 8), bytes: buf.subarray(i, i + len) });
    i += len;
  }
  return out;
}

// ---- ids and the envelope ----

// idOf is the Chromium extension id of a DER public key: the hex digits of
// its SHA-256's first 16 bytes, written with the letters a–p.
export function idOf(publicKeyDer) {
  const hex = crypto.createHash("sha256").update(publicKeyDer).digest("hex").slice(0, 32);
  return [...hex].map((c) => String.fromCharCode(97 + parseInt(c, 16))).join("");
}

const SIGNED_PREFIX = Buffer.from("CRX3 SignedData\x00", "latin1");

function signedPayload(signedHeaderData, zip) {
  const len = Buffer.alloc(4);
  len.writeUInt32LE(signedHeaderData.length);
  return Buffer.concat([SIGNED_PREFIX, len, signedHeaderData, zip]);
}

// packCrx3 wraps zip in a CRX3 signed with privateKey (a KeyObject or PEM,
// RSA). It returns the CRX bytes and the extension id.
export function packCrx3(zip, privateKey) {
  const key = typeof privateKey === "string" || Buffer.isBuffer(privateKey) ? crypto.createPrivateKey(privateKey) : privateKey;
  if (key.asymmetricKeyType !== "rsa") throw new Error("the CRX key must be an RSA key, not " + key.asymmetricKeyType);
  const pub = crypto.createPublicKey(key).export({ type: "spki", format: "der" });
  const crxId = crypto.createHash("sha256").update(pub).digest().subarray(0, 16);
  const signedHeaderData = field(1, crxId);
  const signature = crypto.sign("sha256", signedPayload(signedHeaderData, zip), key);
  const header = Buffer.concat([field(2, Buffer.concat([field(1, pub), field(2, signature)])), field(10000, signedHeaderData)]);
  const prefix = Buffer.alloc(12);
  prefix.write("Cr24", 0, "latin1");
  prefix.writeUInt32LE(3, 4);
  prefix.writeUInt32LE(header.length, 8);
  return { crx: Buffer.concat([prefix, header, zip]), id: idOf(pub) };
}

// verifyCrx3 checks a CRX3 the way Chromium does for a developer-signed
// package: the envelope, an RSA proof whose key hashes to the crx_id in the
// signed header, and its signature over the header and the zip. It returns
// { id, zip } or throws.
export function verifyCrx3(crx) {
  if (crx.length < 12 || crx.toString("latin1", 0, 4) !== "Cr24") throw new Error("not a CRX (no Cr24 magic)");
  if (crx.readUInt32LE(4) !== 3) throw new Error("CRX version " + crx.readUInt32LE(4) + ", want 3");
  const hlen = crx.readUInt32LE(8);
  if (12 + hlen > crx.length) throw new Error("CRX header runs past the end");
  const header = readFields(crx.subarray(12, 12 + hlen));
  const zip = crx.subarray(12 + hlen);
  const shd = header.find((f) => f.num === 10000);
  if (!shd) throw new Error("CRX has no signed_header_data");
  const crxId = readFields(shd.bytes).find((f) => f.num === 1);
  if (!crxId || crxId.bytes.length !== 16) throw new Error("CRX signed header has no 16-byte crx_id");
  const payload = signedPayload(shd.bytes, zip);
  for (const proof of header.filter((f) => f.num === 2)) {
    const parts = readFields(proof.bytes);
    const pub = parts.find((f) => f.num === 1)?.bytes;
    const sig = parts.find((f) => f.num === 2)?.bytes;
    if (!pub || !sig) continue;
    if (!crypto.createHash("sha256").update(pub).digest().subarray(0, 16).equals(crxId.bytes)) continue;
    const key = crypto.createPublicKey({ key: pub, format: "der", type: "spki" });
    if (crypto.verify("sha256", payload, key, sig)) return { id: idOf(pub), zip };
    throw new Error("CRX signature does not verify");
  }
  throw new Error("no RSA proof in the CRX matches its crx_id");
}

// updateManifest is the gupdate XML that tells Chromium-family browsers
// where the CRX of version lives (ExtensionSettings update_url /
// ExtensionInstallForcelist point at this file).
export function updateManifest(id, version, codebase) {
  const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/'/g, "&apos;").replace(/</g, "&lt;");
  return `<?xml version='1.0' encoding='UTF-8'?>
<gupdate xmlns='http://www.google.com/update2/response' protocol='2.0'>
  <app appid='${esc(id)}'>
    <updatecheck codebase='${esc(codebase)}' version='${esc(version)}' />
  </app>
</gupdate>
`;
}
