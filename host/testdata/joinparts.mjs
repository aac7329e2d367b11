// Feeds the part messages kyso host wrote (as the browser hands them to the
// extension: one parsed JSON object per message) to the real
// extension/src/background.js, and checks that the page gets the one
// response whose JSON text is the expected file. Run by host's
// TestPartsThroughBackground: node joinparts.mjs PARTS.jsonl EXPECTED.json
import fs from "node:fs";
import { loadBackground, request } from "../../extension/test/fakebrowser.js";

const [partsFile, expectedFile] = process.argv.slice(2);
const expected = fs.readFileSync(expectedFile, "utf8");
const want = JSON.parse(expected);
const bg = loadBackground();
const page = bg.connect("https://a.gov.vn");
page.onMessage.fire(request(want.id));
const native = bg.natives[0];
for (const line of fs.readFileSync(partsFile, "utf8").split("\n")) {
  if (line !== "") native.onMessage.fire(JSON.parse(line));
}
// The background hands the content script one response, or (over 16 Mi
// characters) pieces the content script joins: join them as it does.
let got;
const a = page.answers;
if (a.length === 1 && a[0].kyso === "response") {
  const { kyso, ...resp } = a[0];
  got = JSON.stringify(resp);
} else if (a.length > 0 && a.every((m, i) => m.kyso === "response-part" && m.part === i && m.parts === a.length)) {
  const resp = JSON.parse(a.map((m) => m.data).join(""));
  got = JSON.stringify(resp);
} else {
  console.log("FAIL: the page got " + JSON.stringify(a.map((m) => ({ kyso: m.kyso, error: m.error }))));
  process.exit(1);
}
if (got !== JSON.stringify(want)) {
  console.log("FAIL: the joined response differs from what the host answered");
  process.exit(1);
}
if (!native.disconnected) {
  console.log("FAIL: the native port was not closed after the answer");
  process.exit(1);
}
console.log("ok " + a.length);
