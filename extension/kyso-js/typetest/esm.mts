// Type checks of the published package as an ES module consumer sees it
// (check-pack.mjs compiles this against the packed tarball; nothing runs).
import * as kyso from "kyso";
import { createClient, errors, KysoError, states, type KysoErrorCode, type Progress } from "kyso";

export async function portal(file: File, xml: string, digest: Uint8Array): Promise<void> {
  const v = await kyso.version();
  const ops: string[] | undefined = v.ops;
  void ops;
  const cert = await kyso.getCertificate({ filter: { issuer: "VGCA" } });
  const id: string = cert.certificateId;
  const one = await kyso.sign({ certificateId: id, hash: digest, hashFunction: "SHA-256", description: "Tờ khai" });
  const sig: string = one.signature;
  void sig;
  const seen: Progress[] = [];
  const batch = await kyso.signBatch({ certificateId: id, hashes: [digest, "AAAA"], hashFunction: "SHA-256", onProgress: (p) => seen.push(p) });
  const sigs: string[] = batch.signatures;
  void sigs;

  const pdf = await kyso.signPdf({ certificateId: id, pdf: file, reason: "Phê duyệt", stamp: { page: -1, rect: [400, 40, 180, 60], image: file } });
  const signedPdf: string = pdf.pdf;
  void signedPdf;
  const many = await kyso.signPdf({ certificateId: id, documents: [{ pdf: file }, { pdf: digest, stamp: null }], onProgress: (p) => p.done / p.total });
  many.documents.forEach((d) => d.pdf.length);
  const blob: Blob = await kyso.signPdfFile(file, { certificateId: id, stamp: null });
  void blob;

  const cms = await kyso.signCms({ certificateId: id, hash: digest, hashFunction: "SHA-256", fileName: "a.pdf" });
  const p7s: string = cms.cms;
  void p7s;
  const cmsList = await kyso.signCms({ certificateId: id, hashes: [digest], hashFunction: "SHA-384" });
  cmsList.cmsList.map((c) => c.length);
  const p7sBlob: Blob = await kyso.signCmsFile(file, { certificateId: id });
  void p7sBlob;

  const x = await kyso.signXml({ certificateId: id, xml, reference: "#DLHDon", parent: "/HDon/DSCKS/NBan", signingTime: true });
  const signedXml: string = x.xml;
  void signedXml;
  const xs = await kyso.signXml({ certificateId: id, documents: [{ xml: file, reference: "" }] });
  xs.documents[0].xml.length;
  await kyso.signXmlFile(file, { certificateId: id, parent: "/HDon/DSCKS/NBan" });

  const b64: string = await kyso.readAsBase64(file);
  const back: Blob = kyso.base64ToBlob(b64, "application/pdf");
  void back;

  const d = await kyso.detect();
  if (d.localNetworkAccess === "denied" && !d.extension) console.log(kyso.message("LOCAL_NETWORK_BLOCKED", "vi"));
  const stop = kyso.onStateChange((state, info) => {
    if (state === states.WAITING_FOR_BROWSER_PERMISSION) console.log(info.permission);
  });
  stop();

  const c = createClient({ port: 28418, lang: "en", onStateChange: () => {} });
  await c.close();
  try {
    await c.sign({ certificateId: id, hash: digest, hashFunction: "SHA-256" });
  } catch (e) {
    if (e instanceof KysoError) {
      const code: KysoErrorCode = e.code;
      if (code === errors.LOCAL_NETWORK_BLOCKED || e.code === kyso.errors.NOT_INSTALLED) console.log(e.message, e.detail);
    }
  }

  // Misuse the types must refuse.
  // @ts-expect-error certificateId is required
  await kyso.signPdf({ pdf: file });
  // @ts-expect-error pdf and documents exclude each other
  await kyso.signPdf({ certificateId: id, pdf: file, documents: [] });
  // @ts-expect-error not a hash function
  await kyso.sign({ certificateId: id, hash: digest, hashFunction: "MD5" });
  // @ts-expect-error not an error code
  const bad: KysoErrorCode = "NOPE";
  void bad;
  // @ts-expect-error errors is read-only
  errors.BUSY = "X";
}
