package messages

import (
	"unsafe"

	"golang.org/x/sys/windows"
)

var procGetUserDefaultLocaleName = windows.NewLazySystemDLL("kernel32.dll").NewProc("GetUserDefaultLocaleName")

// userLocales returns the user's locale (regional format) and, if that is
// not Vietnamese, the first preferred UI language: a Vietnamese user often
// runs an English Windows with Vietnamese regional settings, and should get
// Vietnamese dialogs; either one being Vietnamese is enough.
func userLocales() []string {
	var locales []string
	buf := make([]uint16, 85) // LOCALE_NAME_MAX_LENGTH
	if n, _, _ := procGetUserDefaultLocaleName.Call(uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf))); n > 0 {
		locales = append(locales, windows.UTF16ToString(buf))
	}
	if ui, err := windows.GetUserPreferredUILanguages(windows.MUI_LANGUAGE_NAME); err == nil && len(ui) > 0 {
		locales = append(locales, ui[0])
	}
	for _, l := range locales {
		if langOf([]string{l}) == "vi" {
			return []string{l}
		}
	}
	return locales
}
