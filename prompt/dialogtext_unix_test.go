//go:build !windows && !darwin

package prompt

import "testing"

func TestZenityEscapes(t *testing.T) {
	in := `<span size="99999">x</span> & \n \\ \012`
	if got, want := listText(in), `&lt;span size="99999"&gt;x&lt;/span&gt; &amp; \\n \\\\ \\012`; got != want {
		t.Errorf("listText = %q, want %q", got, want)
	}
	if got, want := entryText(in), `<span size="99999">x</span> & \\n \\\\ \\012`; got != want {
		t.Errorf("entryText = %q, want %q", got, want)
	}
	if got := questionText(in); got != in {
		t.Errorf("questionText = %q", got)
	}
}
