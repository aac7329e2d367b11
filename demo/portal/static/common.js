// Shared helpers of the demo pages: loading kyso.js, base64, hashing with
// WebCrypto, the canonical text the server recomputes, and the Vietnamese
// message for each Kyso error code; runSigning is what a sign button does.

// Loads the page library. A failed load (kyso.js missing) becomes the same
// NOT_INSTALLED path as a missing extension/agent, with its own message.
let loaded = null; // one client for the page's life
export async function loadKyso() {
  if (loaded) return loaded;
  try {
    const mod = await import('/kyso.js');
    // ?kysoPort=N: an agent on another port than 28418 (set by "port" in
    // Kyso's config); the e2e tests use it.
    const port = new URLSearchParams(location.search).get('kysoPort');
    const client = port && /^[0-9]{1,5}$/.test(port) ? mod.createClient({ port: Number(port) }) : mod;
    // What kyso.js waits for is shown to the person: above all the
    // browser's own prompt to let this page reach Kyso on this computer.
    window.kysoStates = [];
    client.onStateChange((state) => {
      window.kysoStates.push(state);
      if (stateText[state]) status(stateText[state]);
    });
    loaded = client;
    return client;
  } catch (e) {
    const err = new Error('Không tải được /kyso.js: ' + e.message);
    err.code = 'KYSO_JS_MISSING';
    throw err;
  }
}

export function b64(bytes) {
  const u = new Uint8Array(bytes);
  let s = '';
  for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode(...u.subarray(i, i + 0x8000));
  return btoa(s);
}

export function hex(bytes) {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');
}

// WebCrypto exists only in a secure context: https, or http://localhost.
export async function sha256(data) {
  if (!crypto.subtle) throw Object.assign(new Error('WebCrypto cần ngữ cảnh an toàn (https hoặc http://localhost)'), { code: 'INSECURE_CONTEXT' });
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
}

// canonical must build the same bytes as portal.Canonical (Go): a header
// line, then "name:utf8Length:value\n" for each field in order.
export function canonical(header, fields) {
  const enc = new TextEncoder();
  let s = header + '\n';
  for (const [name, value] of fields) s += `${name}:${enc.encode(value).length}:${value}\n`;
  return s;
}

// clean is applied to every field before it is hashed AND sent, so the
// server hashes exactly what was signed: NFC (Vietnamese diacritics can be
// typed composed or decomposed) and no line breaks, which form encoding
// would otherwise rewrite.
export function clean(v) {
  return String(v).normalize('NFC').replace(/\s+/g, ' ').trim();
}

const stateText = {
  'waiting-for-browser-permission': 'Trình duyệt đang hỏi bạn có cho trang này truy cập "các ứng dụng và dịch vụ khác trên thiết bị này" không: hãy chọn "Cho phép" (Allow) trong hộp hỏi của trình duyệt để trang kết nối được với Kyso.',
  'connected': 'Đã kết nối với Kyso trên máy này.',
  'extension-outdated': 'Tiện ích mở rộng Kyso trên trình duyệt đã cũ; hãy cập nhật để dùng đủ chức năng.',
};

const messages = {
  LOCAL_NETWORK_BLOCKED: 'Trình duyệt đã chặn trang này kết nối tới Kyso trên máy của bạn. Hãy bấm biểu tượng cài đặt trang (bên trái thanh địa chỉ), cho phép "các ứng dụng và dịch vụ khác trên thiết bị này", rồi thử lại — hoặc cài tiện ích mở rộng Kyso, khi đó trình duyệt không cần hỏi.',
  NOT_INSTALLED: 'Chưa tìm thấy Kyso trên máy này. Hãy cài Kyso (chạy "kyso install"), nạp tiện ích mở rộng Kyso vào trình duyệt — hoặc chạy "kyso serve" — rồi tải lại trang. Xem hướng dẫn bên dưới.',
  USER_CANCELLED: 'Bạn đã hủy thao tác trong hộp thoại của Kyso. Hồ sơ chưa được ký.',
  ORIGIN_DENIED: 'Trang này chưa được phép dùng Kyso. Quản trị viên cần thêm địa chỉ trang vào "allowedOrigins" trong cấu hình Kyso, hoặc bạn chọn "Cho phép" khi Kyso hỏi.',
  TIMEOUT: 'Hết thời gian chờ xác nhận (120 giây). Vui lòng thử lại.',
  BUSY: 'Kyso đang mở một hộp thoại khác. Hãy hoàn tất hộp thoại đó rồi thử lại.',
  RATE_LIMITED: 'Trang này đã bị tạm dừng vì bị hủy hoặc từ chối 3 lần trong 60 giây. Vui lòng đợi một phút rồi thử lại.',
  NO_TOKEN: 'Chưa thấy thiết bị ký số (USB token). Hãy cắm token vào máy rồi thử lại.',
  NO_CERTIFICATE: 'Token không có chứng thư số dùng để ký.',
  CERTIFICATE_NOT_FOUND: 'Không tìm thấy chứng thư số đã chọn — token đã bị rút ra? Hãy cắm lại và thử lại.',
  UNSUPPORTED_ALGORITHM: 'Khóa trên token không hỗ trợ thuật toán ký này.',
  PIN_LOCKED: 'Mã PIN của token đã bị khóa. Hãy liên hệ tổ chức cung cấp chứng thư số để mở khóa.',
  TOKEN_REMOVED: 'Token đã bị rút ra trong lúc ký. Hãy cắm lại và thử lại.',
  TOKEN_ERROR: 'Thiết bị ký số báo lỗi.',
  BAD_REQUEST: 'Yêu cầu ký không hợp lệ (lỗi của trang web).',
  UNKNOWN_OP: 'Phiên bản Kyso trên máy không hỗ trợ thao tác này. Hãy cập nhật Kyso.',
  INTERNAL: 'Kyso gặp lỗi nội bộ. Vui lòng thử lại hoặc báo cho bộ phận hỗ trợ.',
  BAD_DOCUMENT: 'Kyso không ký được văn bản này (tệp hỏng, bị mã hóa, đã khóa không cho sửa, hoặc thiếu phần cần ký).',
  TIMESTAMP_FAILED: 'Máy chủ cấp dấu thời gian không trả lời đúng; văn bản chưa được ký. Vui lòng thử lại sau.',
  NO_DIALOG: 'Kyso không mở được hộp thoại trên máy này (không có phiên màn hình?). Không có gì được ký.',
  KYSO_JS_MISSING: 'Trang không tải được thư viện kyso.js.',
  INSECURE_CONTEXT: 'Trình duyệt chỉ cho phép tính mã băm trên trang https hoặc http://localhost.',
};

export function errorMessage(err) {
  const code = err && err.code;
  let m = messages[code] || 'Lỗi không xác định: ' + (err && err.message ? err.message : String(err));
  if (code === 'TOKEN_ERROR' && err.detail) m += ' (' + err.detail + ')';
  if (code === 'BAD_DOCUMENT' && err.message) m += ' (' + err.message + ')';
  return m;
}

// showError puts a Kyso failure in the result box; the code is kept in
// data-code for people reading the page source and for the e2e tests.
export function showError(box, err) {
  box.hidden = false;
  box.dataset.state = 'error';
  box.dataset.code = (err && err.code) || 'UNKNOWN';
  box.className = 'ket-qua loi';
  box.replaceChildren(
    el('h3', {}, 'Không ký được'),
    el('p', {}, errorMessage(err)),
    el('p', { className: 'ma-loi' }, 'Mã lỗi: ' + box.dataset.code),
  );
  if (box.dataset.code === 'NOT_INSTALLED') document.getElementById('huong-dan')?.setAttribute('open', '');
}

// runSigning is what a page's sign button does: clear the previous status
// and result, run task with the button disabled, and show a failure in box.
export async function runSigning(button, box, task) {
  button.disabled = true;
  document.getElementById('trang-thai').replaceChildren();
  box.hidden = true;
  box.dataset.state = 'busy';
  delete box.dataset.code;
  try {
    await task();
  } catch (err) {
    console.error('kyso demo:', err);
    showError(box, err);
  } finally {
    button.disabled = false;
  }
}

export function el(tag, props, ...children) {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
}

export function fmtDate(s) {
  if (!s) return '';
  const d = new Date(s);
  return isNaN(d) ? s : d.toLocaleString('vi-VN', { dateStyle: 'medium', timeStyle: 'short' });
}

// certRows renders what the server reports about the signer's certificate.
export function certRows(signer, chain) {
  const rows = [
    ['Người ký', signer.holder, 'nguoi-ky'],
    ['Chủ thể', signer.subject, 'chu-the'],
    ['Tổ chức cấp', signer.issuer, 'to-chuc-cap'],
    ['Số hiệu', signer.serialNumber, 'so-hieu'],
    ['Hiệu lực', fmtDate(signer.notBefore) + ' — ' + fmtDate(signer.notAfter), 'hieu-luc'],
  ];
  if (chain) rows.push(['Chuỗi chứng thư', chain.checked ? (chain.ok ? 'hợp lệ, tới CA ' + chain.root : chain.reason) : (chain.reason || 'không kiểm tra'), 'chuoi']);
  return el('dl', { className: 'chung-thu' }, ...rows.flatMap(([k, v, cls]) => [el('dt', {}, k), el('dd', { className: cls }, v || '')]));
}

// showDocumentResult fills the result box for a signed document the server
// checked: the verdict, a link to download the signed file, and one list of
// the server's checks (rows of [label, value, class]) and the signer.
export function showDocumentResult(box, res, { okText, file, name, label, rows }) {
  box.hidden = false;
  box.dataset.state = res.valid ? 'valid' : 'invalid';
  box.className = 'ket-qua ' + (res.valid ? 'dat' : 'loi');
  box.replaceChildren(
    el('h3', { id: 'ket-luan' }, res.valid ? 'Chữ ký hợp lệ' : 'Chữ ký không hợp lệ'),
    res.valid ? el('p', {}, okText) : el('p', { id: 'ly-do' }, 'Lý do: ' + res.reason),
    el('a', { id: 'tai-ve', className: 'tai-ve', href: URL.createObjectURL(file), download: name }, `Tải về ${label} (${name})`),
    el('dl', { className: 'chung-thu' }, ...rows.flatMap(([k, v, cls]) => [el('dt', {}, k), el('dd', { className: cls }, v || '')]),
      ...(res.signer ? certRows(res.signer, res.chain).childNodes : [])),
  );
}

export function status(msg) {
  const s = document.getElementById('trang-thai');
  s.append(el('li', {}, msg));
}
