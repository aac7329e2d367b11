// Package xmldsigtest makes XML documents for tests and benchmarks of
// document/xmldsig: a synthetic e-invoice of Thông tư 78 shape (the one in
// document/xmldsig/testdata/invoice.xml, with as many line items as a given
// size needs).
package xmldsigtest

import (
	"fmt"
	"strings"
)

// Where Invoice's signature goes and what it signs.
const (
	InvoiceReference = "#DLHDon-1C26TKY-0000123"
	InvoiceParent    = "/HDon/DSCKS/NBan"
)

// Invoice returns an unsigned e-invoice of at least size bytes (one line
// item is about 420 bytes), UTF-8 with Vietnamese text.
func Invoice(size int) []byte {
	var items strings.Builder
	n := 0
	total := 0
	frame := len(invoice("", 0, 0)) + 16 // the totals' digits
	for n == 0 || items.Len()+frame < size {
		n++
		price := 10000 + n%97*1000
		total += price * (n%5 + 1)
		fmt.Fprintf(&items, `
        <HHDVu>
          <TChat>1</TChat>
          <STT>%d</STT>
          <MHHDVu>SP-%06d</MHHDVu>
          <THHDVu>Hàng hóa số %d — giấy in khổ A4 định lượng 80g/m², đóng gói 500 tờ</THHDVu>
          <DVTinh>Ram</DVTinh>
          <SLuong>%d</SLuong>
          <DGia>%d</DGia>
          <ThTien>%d</ThTien>
          <TSuat>8%%</TSuat>
        </HHDVu>`, n, n, n, n%5+1, price, price*(n%5+1))
	}
	return []byte(invoice(items.String(), total, total*8/100))
}

func invoice(items string, total, tax int) string {
	return fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<HDon>
  <DLHDon Id="%s">
    <TTChung>
      <PBan>2.1.0</PBan>
      <THDon>Hóa đơn giá trị gia tăng</THDon>
      <KHMSHDon>1</KHMSHDon>
      <KHHDon>C26TKY</KHHDon>
      <SHDon>123</SHDon>
      <NLap>2026-03-31</NLap>
      <DVTTe>VND</DVTTe>
      <TGia>1</TGia>
      <HTTToan>TM/CK</HTTToan>
    </TTChung>
    <NDHDon>
      <NBan>
        <Ten>Công ty Cổ phần Kiểm thử Kyso</Ten>
        <MST>0100109106</MST>
        <DChi>Số 1 phố Đội Cấn, Phường Ba Đình, Thành phố Hà Nội</DChi>
      </NBan>
      <NMua>
        <Ten>Công ty TNHH Văn phòng phẩm Ánh Dương</Ten>
        <MST>0312345678</MST>
        <DChi>285 Cách Mạng Tháng 8, Thành phố Hồ Chí Minh</DChi>
      </NMua>
      <DSHHDVu>%s
      </DSHHDVu>
      <TToan>
        <TgTCThue>%d</TgTCThue>
        <TgTThue>%d</TgTThue>
        <TgTTTBSo>%d</TgTTTBSo>
      </TToan>
    </NDHDon>
  </DLHDon>
  <DSCKS>
    <NBan/>
    <NMua/>
  </DSCKS>
</HDon>
`, strings.TrimPrefix(InvoiceReference, "#"), items, total, tax, total+tax)
}
