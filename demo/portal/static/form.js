// The "Nộp hồ sơ trực tuyến" page: choose a certificate, hash the form and
// the file, have the token sign, and let the server verify.
import { loadKyso, b64, hex, sha256, canonical, clean, runSigning, status, el, certRows } from '/static/common.js';

const HEADER = 'KYSO-DEMO/HO-SO/1'; // portal.FormHeader
const FIELDS = ['thuTuc', 'hoTen', 'cccd', 'diaChi', 'nganhNghe']; // portal.FormFields

const form = document.getElementById('ho-so');
const box = document.getElementById('ket-qua');

document.getElementById('dien-mau').addEventListener('click', () => {
  form.hoTen.value = 'Nguyễn Văn An';
  form.cccd.value = '001090012345';
  form.diaChi.value = 'Số 1 phố Tràng Tiền, phường Tràng Tiền, quận Hoàn Kiếm, Hà Nội';
  form.nganhNghe.value = 'Bán lẻ lương thực, thực phẩm';
  if (!form.tep.files.length) {
    const dt = new DataTransfer();
    dt.items.add(new File(['Giấy đề nghị đăng ký hộ kinh doanh — bản quét mẫu.\n'], 'giay-de-nghi.txt', { type: 'text/plain' }));
    form.tep.files = dt.files;
  }
});

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  runSigning(document.getElementById('ky-nop'), box, submit);
});

async function submit() {
  const values = {};
  for (const f of FIELDS) values[f] = clean(form[f].value);
  const file = form.tep.files[0];
  const invalid = !values.hoTen ? 'Vui lòng nhập họ và tên.'
    : !/^[0-9]{12}$/.test(values.cccd) ? 'Số CCCD phải gồm 12 chữ số.'
    : !values.diaChi ? 'Vui lòng nhập địa chỉ.'
    : !file ? 'Vui lòng chọn tệp đính kèm.' : '';
  if (invalid) {
    box.hidden = false;
    box.dataset.state = 'form';
    box.className = 'ket-qua loi';
    box.replaceChildren(el('p', {}, invalid));
    return;
  }

  const kyso = await loadKyso();
  status('Đang đọc chứng thư số (hãy chọn chứng thư trong hộp thoại Kyso)…');
  const cert = await kyso.getCertificate();
  status('Đã chọn chứng thư của ' + cert.subject);

  const fileHash = hex(await sha256(await file.arrayBuffer()));
  const fields = FIELDS.map((f) => [f, values[f]]);
  const tenTep = clean(file.name);
  fields.push(['tenTep', tenTep], ['kichThuocTep', String(file.size)], ['sha256Tep', fileHash]);
  const hash = await sha256(canonical(HEADER, fields));
  status('Mã băm SHA-256 của hồ sơ: ' + hex(hash).slice(0, 16) + '…');

  status('Đang chờ bạn nhập mã PIN trong hộp thoại Kyso…');
  const sig = await kyso.sign({
    certificateId: cert.certificateId,
    hash: b64(hash),
    hashFunction: 'SHA-256',
    description: 'Hồ sơ đăng ký hộ kinh doanh của ' + values.hoTen,
  });
  status('Đã ký. Đang gửi hồ sơ để kiểm tra chữ ký…');
  // For developers (and the e2e tests): what was signed, to inspect in the console.
  window.kysoDemo = { hash: b64(hash), signature: sig.signature, scheme: sig.scheme, certificate: cert.certificate };

  const body = new FormData();
  for (const f of FIELDS) body.append(f, values[f]);
  body.append('tenTep', tenTep);
  body.append('tep', file, file.name);
  body.append('signature', sig.signature);
  body.append('scheme', sig.scheme || '');
  body.append('hashFunction', sig.hashFunction || 'SHA-256');
  body.append('certificate', cert.certificate);
  for (const c of cert.chain || []) body.append('chain', c);
  const res = await (await fetch('/api/ho-so', { method: 'POST', body })).json();
  showResult(res);
}

function showResult(res) {
  box.hidden = false;
  box.dataset.state = res.valid ? 'valid' : 'invalid';
  box.className = 'ket-qua ' + (res.valid ? 'dat' : 'loi');
  const parts = [el('h3', { id: 'ket-luan' }, res.valid ? 'Chữ ký hợp lệ' : 'Chữ ký không hợp lệ')];
  if (res.valid) parts.push(el('p', {}, 'Hồ sơ đã được tiếp nhận. Mã hồ sơ: ', el('strong', { id: 'ma-ho-so' }, res.receipt)));
  else parts.push(el('p', { id: 'ly-do' }, 'Lý do: ' + res.reason));
  if (res.signer) parts.push(certRows(res.signer, res.chain));
  if (res.hash) parts.push(el('p', { className: 'nho' }, `${res.hashFunction} do máy chủ tính lại: ${res.hash} · lược đồ: ${res.scheme}`));
  box.replaceChildren(...parts);
}
