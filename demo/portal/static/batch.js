// The "Ký hàng loạt" page: the server issues a batch of documents, the page
// hashes each, kyso.signBatch signs them all after one PIN, and the server
// regenerates the documents and verifies every signature.
import { loadKyso, b64, sha256, showError, runSigning, status, el, certRows } from '/static/common.js';

const params = new URLSearchParams(location.search);
const COUNT = Math.min(Math.max(parseInt(params.get('n') || '100', 10) || 100, 1), 1000);
const box = document.getElementById('ket-qua');
const signBtn = document.getElementById('ky-lo');
const tbody = document.querySelector('#bang-van-ban tbody');
let batch = null;

async function loadBatch() {
  signBtn.disabled = true;
  box.hidden = true;
  box.dataset.state = '';
  document.getElementById('trang-thai').replaceChildren();
  const r = await fetch('/api/lo-van-ban?n=' + COUNT);
  batch = await r.json();
  tbody.replaceChildren(...batch.documents.map((d, i) =>
    el('tr', {}, el('td', {}, String(i + 1)), el('td', {}, d.number), el('td', {}, d.title), el('td', { className: 'tt' }, 'Chưa ký'))));
  document.getElementById('tom-tat').textContent = `Lô ${batch.batchId.slice(0, 8)}…: ${batch.documents.length} văn bản chờ ký.`;
  signBtn.disabled = false;
}

document.getElementById('tai-lo').addEventListener('click', loadBatch);
signBtn.addEventListener('click', () => runSigning(signBtn, box, signAll));

async function signAll() {
  const kyso = await loadKyso();
  status('Đang đọc chứng thư số…');
  const cert = await kyso.getCertificate();
  status('Đã chọn chứng thư của ' + cert.subject);
  const hashes = [];
  for (const d of batch.documents) hashes.push(b64(await sha256(d.content)));
  status(`Đã tính ${hashes.length} mã băm SHA-256. Đang chờ bạn nhập mã PIN (một lần cho cả lô)…`);
  const res = await kyso.signBatch({
    certificateId: cert.certificateId,
    hashes,
    hashFunction: 'SHA-256',
    description: `Ký duyệt ${hashes.length} văn bản của lô ${batch.batchId.slice(0, 8)}`,
  });
  status(`Đã nhận ${res.signatures.length} chữ ký. Đang gửi để máy chủ kiểm tra…`);
  const r = await fetch('/api/ky-hang-loat', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      batchId: batch.batchId,
      count: hashes.length,
      hashFunction: res.hashFunction || 'SHA-256',
      scheme: res.scheme || '',
      certificate: cert.certificate,
      chain: cert.chain || [],
      signatures: res.signatures,
    }),
  });
  showResult(await r.json());
}

function showResult(res) {
  const failed = new Set((res.failures || []).map((f) => f.index));
  [...tbody.rows].forEach((row, i) => {
    const ok = res.total > 0 && !failed.has(i);
    row.cells[3].textContent = ok ? 'Hợp lệ' : 'Không hợp lệ';
    row.className = ok ? 'dat' : 'loi';
  });
  box.hidden = false;
  box.dataset.state = res.valid ? 'valid' : 'invalid';
  box.dataset.verified = String(res.verified || 0);
  box.dataset.total = String(res.total || 0);
  box.className = 'ket-qua ' + (res.valid ? 'dat' : 'loi');
  const parts = [
    el('h3', { id: 'ket-luan' }, res.valid ? 'Tất cả chữ ký hợp lệ' : 'Có chữ ký không hợp lệ'),
    el('p', { id: 'dem' }, `Máy chủ đã kiểm tra: ${res.verified || 0}/${res.total || 0} chữ ký hợp lệ.`),
  ];
  if (!res.valid) parts.push(el('p', { id: 'ly-do' }, 'Lý do: ' + res.reason));
  if (res.signer) parts.push(certRows(res.signer, res.chain));
  box.replaceChildren(...parts);
}

loadBatch().catch((err) => showError(box, err));
