//go:build windows || darwin

package prompt

// The native dialogs of Windows and macOS show text as is: no markup, no
// backslash escapes, no mnemonics in labels (the zenity package quotes
// those it adds). Text from outside has already been through oneLine.

func questionText(s string) string { return s }

func entryText(s string) string { return s }

func listText(s string) string { return s }

func bold(escaped string) string { return escaped }

func progressText(s string) string { return s }
