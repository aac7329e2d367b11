// Type checks of the classic-script build: the global `kyso` (window.kyso)
// in a script that imports nothing.
/// <reference types="kyso" />

async function signOnClick(hash: Uint8Array): Promise<void> {
  try {
    const cert = await kyso.getCertificate();
    await kyso.sign({ certificateId: cert.certificateId, hash, hashFunction: "SHA-256" });
  } catch (e) {
    if (e instanceof kyso.KysoError && e.code === kyso.errors.NOT_INSTALLED) alert(e.message);
  }
}
void signOnClick;
