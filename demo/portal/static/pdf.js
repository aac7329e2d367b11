// The "Ký văn bản PDF" page: the person chooses a PDF (or the portal's
// sample), kyso.signPdfFile has the token sign it as PAdES with a visible
// stamp, the signed PDF is offered for download, and the server checks it:
// the signature covers the whole file, the CMS verifies, the signer's
// certificate chains, and the original is the signed file's start.
import { loadKyso, hex, sha256, runSigning, status, el, fmtDate, showDocumentResult } from '/static/common.js';

const form = document.getElementById('van-ban');
const input = document.getElementById('tep-pdf');
const box = document.getElementById('ket-qua');
let sample = null; // the sample PDF when the person took it

function chosen() {
  return input.files[0] || sample;
}

function showChosen() {
  const f = chosen();
  document.getElementById('tep-chon').textContent = f
    ? `Đã chọn: ${f.name} (${f.size.toLocaleString('vi-VN')} byte)` : 'Chưa chọn tệp.';
}

input.addEventListener('change', () => { sample = null; showChosen(); });

document.getElementById('lay-mau').addEventListener('click', async () => {
  const r = await fetch('/api/pdf-mau');
  sample = new File([await r.blob()], 'van-ban-mau.pdf', { type: 'application/pdf' });
  input.value = '';
  showChosen();
});

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  runSigning(document.getElementById('ky-pdf'), box, signPdf);
});

async function signPdf() {
  const file = chosen();
  if (!file) {
    box.hidden = false;
    box.dataset.state = 'form';
    box.className = 'ket-qua loi';
    box.replaceChildren(el('p', {}, 'Vui lòng chọn tệp PDF hoặc bấm "Dùng văn bản mẫu".'));
    return;
  }
  const kyso = await loadKyso();
  status('Đang đọc chứng thư số (hãy chọn chứng thư trong hộp thoại Kyso)…');
  const cert = await kyso.getCertificate();
  status('Đã chọn chứng thư của ' + cert.subject);

  const original = await file.arrayBuffer();
  const originalHash = hex(await sha256(original));
  status(`Văn bản ${file.name}: ${file.size.toLocaleString('vi-VN')} byte, SHA-256 ${originalHash.slice(0, 16)}…`);
  status('Đang chờ bạn xác nhận và nhập mã PIN trong hộp thoại Kyso…');
  const reason = document.getElementById('ly-do-ky').value.trim();
  const location = document.getElementById('noi-ky').value.trim();
  const opts = {
    certificateId: cert.certificateId,
    fileName: file.name,
    description: 'Ký văn bản ' + file.name,
    onProgress: (p) => status(`Kyso đã ký ${p.done}/${p.total} văn bản`),
  };
  if (reason) opts.reason = reason;
  if (location) opts.location = location;
  if (!document.getElementById('hien-dau').checked) opts.stamp = null;
  // One call: a File in, the signed PDF as a Blob out (kyso.js reads and
  // encodes the file, and decodes the answer).
  const signed = await kyso.signPdfFile(file, opts);
  const name = file.name.replace(/\.pdf$/i, '') + '-da-ky.pdf';
  status(`Đã ký: ${name}, ${signed.size.toLocaleString('vi-VN')} byte. Đang gửi để máy chủ kiểm tra…`);
  window.kysoDemo = { signedName: name, signedSize: signed.size, originalHash };

  const q = new URLSearchParams({ goc: originalHash, kichThuoc: String(file.size) });
  const res = await (await fetch('/api/kiem-tra-pdf?' + q, { method: 'POST', headers: { 'Content-Type': 'application/pdf' }, body: signed })).json();
  showResult(res, signed, name);
}

function showResult(res, signed, name) {
  box.dataset.sha256 = res.sha256 || '';
  const yes = (b) => (b ? 'có' : 'không');
  const rows = [
    ['Chữ ký bao trùm toàn bộ tệp', yes(res.wholeFile), 'toan-bo'],
    ['Văn bản gốc giữ nguyên', res.originalKept === undefined ? 'không kiểm tra' : yes(res.originalKept), 'giu-nguyen'],
    ['Định dạng chữ ký', res.subFilter ? res.subFilter + (res.hashFunction ? ', ' + res.hashFunction : '') : '', 'dinh-dang'],
    ['Thời điểm ký (/M)', fmtDate(res.signingTime), 'thoi-diem'],
    ['Số chữ ký trong tệp', String(res.signatures || 0), 'so-chu-ky'],
  ];
  if (res.sigReason) rows.push(['Lý do ký', res.sigReason, 'ly-do-ky']);
  if (res.location) rows.push(['Nơi ký', res.location, 'noi-ky']);
  showDocumentResult(box, res, { okText: 'Văn bản đã được ký số và máy chủ đã kiểm tra chữ ký.', file: signed, name, label: 'văn bản đã ký', rows });
  box.append(el('p', { className: 'nho' }, `Tệp đã ký: ${res.size} byte · SHA-256 ${res.sha256}`));
}
