// The "Ký hóa đơn điện tử" page: the page builds a VAT invoice in the XML
// shape of Thông tư 78/2021/TT-BTC (HDon/DLHDon Id=…, DSCKS/NBan for the
// seller's signature), kyso.signXml signs DLHDon as the seller with the
// signing time, and the server verifies the enveloped signature (xmlsec1)
// and reads seller, number and total from the signed part.
import { loadKyso, runSigning, status, showDocumentResult } from '/static/common.js';

const form = document.getElementById('hoa-don');
const box = document.getElementById('ket-qua');
const val = (id) => document.getElementById(id).value.trim();
const money = (n) => n.toLocaleString('vi-VN') + ' đồng';

function amounts() {
  const qty = Math.max(0, Math.round(Number(val('so-luong')) || 0));
  const price = Math.max(0, Math.round(Number(val('don-gia')) || 0));
  const rate = Number(val('thue-suat'));
  const net = qty * price;
  const tax = Math.round((net * rate) / 100);
  return { qty, price, rate, net, tax, total: net + tax };
}

function showTotal() {
  const a = amounts();
  document.getElementById('tong-tien').textContent = `Thành tiền ${money(a.net)} + thuế GTGT ${a.rate}% ${money(a.tax)} = tổng cộng ${money(a.total)}`;
}
form.addEventListener('input', showTotal);
showTotal();

// esc makes text safe inside an XML element or attribute.
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]);

// buildInvoice writes the invoice as the seller's software would: UTF-8,
// DLHDon with an Id the signature references, empty NBan/NMua under DSCKS
// for the seller's and the buyer's signatures.
export function buildInvoice(number, a) {
  const series = 'C26TKY';
  const id = `DLHDon-1${series}-${String(number).padStart(7, '0')}`;
  const today = new Date().toLocaleDateString('sv-SE', { timeZone: 'Asia/Ho_Chi_Minh' });
  const xml = `<?xml version="1.0" encoding="UTF-8"?>
<HDon>
  <DLHDon Id="${id}">
    <TTChung>
      <PBan>2.1.0</PBan>
      <THDon>Hóa đơn giá trị gia tăng</THDon>
      <KHMSHDon>1</KHMSHDon>
      <KHHDon>${series}</KHHDon>
      <SHDon>${number}</SHDon>
      <NLap>${today}</NLap>
      <DVTTe>VND</DVTTe>
      <TGia>1</TGia>
      <HTTToan>TM/CK</HTTToan>
    </TTChung>
    <NDHDon>
      <NBan>
        <Ten>${esc(val('ten-ban'))}</Ten>
        <MST>${esc(val('mst-ban'))}</MST>
        <DChi>${esc(val('dia-chi-ban'))}</DChi>
      </NBan>
      <NMua>
        <Ten>${esc(val('ten-mua'))}</Ten>
        <MST>${esc(val('mst-mua'))}</MST>
      </NMua>
      <DSHHDVu>
        <HHDVu>
          <TChat>1</TChat>
          <STT>1</STT>
          <THHDVu>${esc(val('ten-hang'))}</THHDVu>
          <DVTinh>Ram</DVTinh>
          <SLuong>${a.qty}</SLuong>
          <DGia>${a.price}</DGia>
          <ThTien>${a.net}</ThTien>
          <TSuat>${a.rate}%</TSuat>
        </HHDVu>
      </DSHHDVu>
      <TToan>
        <TgTCThue>${a.net}</TgTCThue>
        <TgTThue>${a.tax}</TgTThue>
        <TgTTTBSo>${a.total}</TgTTTBSo>
      </TToan>
    </NDHDon>
  </DLHDon>
  <DSCKS>
    <NBan/>
    <NMua/>
  </DSCKS>
</HDon>
`;
  return { id, xml };
}

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  runSigning(document.getElementById('ky-hoa-don'), box, signInvoice);
});

async function signInvoice() {
  const kyso = await loadKyso();
  status('Đang đọc chứng thư số của người bán (hãy chọn chứng thư trong hộp thoại Kyso)…');
  const cert = await kyso.getCertificate();
  status('Đã chọn chứng thư của ' + cert.subject);

  const number = 1 + Math.floor(Math.random() * 9999999);
  const { id, xml } = buildInvoice(number, amounts());
  status(`Đã lập hóa đơn số ${number} (${id}). Đang chờ bạn xác nhận và nhập mã PIN trong hộp thoại Kyso…`);
  const res = await kyso.signXml({
    certificateId: cert.certificateId,
    xml,
    fileName: `hoa-don-${number}.xml`,
    reference: '#' + id,
    parent: '/HDon/DSCKS/NBan',
    signingTime: true,
    description: `Ký hóa đơn GTGT số ${number} của ${val('ten-ban')}`,
  });
  status('Đã ký. Đang gửi hóa đơn để máy chủ kiểm tra chữ ký…');
  window.kysoDemo = { invoiceXml: xml, signedXml: res.xml, invoiceId: id, number: String(number) };
  const r = await fetch('/api/kiem-tra-hoa-don', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ xml: res.xml, chain: cert.chain || [] }),
  });
  showResult(await r.json(), res.xml, `hoa-don-${number}-da-ky.xml`);
}

function showResult(res, signedXml, name) {
  const inv = res.invoice || {};
  const total = Number(inv.total);
  const rows = [
    ['Người bán', (inv.seller || '') + (inv.sellerTaxCode ? ' — MST ' + inv.sellerTaxCode : ''), 'nguoi-ban'],
    ['Người mua', inv.buyer, 'nguoi-mua'],
    ['Ký hiệu, số hóa đơn', `${inv.series || ''} số ${inv.number || ''}`, 'so-hoa-don'],
    ['Ngày lập', inv.date, 'ngay-lap'],
    ['Tổng tiền thanh toán', Number.isFinite(total) ? total.toLocaleString('vi-VN') + ' ' + (inv.currency || '') : inv.total, 'tong-cong'],
    ['Phần được ký', res.reference, 'phan-ky'],
    ['Thời điểm ký (SigningTime)', res.signingTime, 'thoi-diem'],
    ['Kiểm tra bởi', res.verifier, 'kiem-tra-boi'],
  ];
  showDocumentResult(box, res, {
    okText: 'Hóa đơn đã được người bán ký số; máy chủ đã kiểm tra chữ ký XML.',
    file: new Blob([signedXml], { type: 'application/xml' }), name, label: 'hóa đơn đã ký', rows,
  });
}
