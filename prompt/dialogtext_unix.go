//go:build !windows && !darwin

package prompt

import "strings"

// On Linux and the BSDs the zenity package runs the zenity program (GTK),
// which reads --text differently per dialog (zenity 3.44, checked on
// screenshots under Xvfb):
//   - question: the package passes --no-markup, so text is shown as is;
//   - entry: backslash escapes are expanded (g_strcompress: a literal `\n`
//     becomes a new line) and "_" marks a mnemonic (the package doubles it);
//   - list: backslash escapes are expanded and the text is Pango markup.
// List items are shown as is.
// Text from outside has already been through oneLine; these functions only
// make the program show exactly those characters.

func questionText(s string) string { return s }

func entryText(s string) string { return strings.ReplaceAll(s, `\`, `\\`) }

func listText(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "&", "&amp;", "<", "&lt;", ">", "&gt;")
	return r.Replace(s)
}

// bold marks text already escaped by listText as bold.
func bold(escaped string) string { return "<b>" + escaped + "</b>" }

// progressText: a progress window's text goes to the zenity program on its
// standard input, one line, with backslash escapes expanded (g_strcompress)
// and no markup (zenity 3.44, checked under Xvfb); a new line is written
// "\n".
func progressText(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "\n", `\n`)
}
