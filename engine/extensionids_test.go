package engine

import (
	"slices"
	"strings"
	"testing"
)

// extensionIds counts from the system policy only: a user's config cannot
// add an extension that may start the native host, and is told so.
func TestExtensionIDsSystemOnly(t *testing.T) {
	paths := testPaths(t)
	writeFile(t, paths.User, "{\n  \"extensionIds\": [\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"]\n}")
	s, err := LoadSettings(paths)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.ExtensionIDs) != 0 {
		t.Fatalf("a user's extensionIds took effect: %v", s.ExtensionIDs)
	}
	if len(s.IgnoredUserKeys) != 1 || !strings.Contains(s.IgnoredUserKeys[0].String(), paths.User+":2: extensionIds is read from the system policy only") {
		t.Fatalf("ignored keys %v", s.IgnoredUserKeys)
	}
	writeFile(t, paths.System, `{"extensionIds": ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "cccccccccccccccccccccccccccccccc", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]}`)
	s, err = LoadSettings(paths)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "cccccccccccccccccccccccccccccccc"}; !slices.Equal(s.ExtensionIDs, want) {
		t.Fatalf("ExtensionIDs = %v, want %v", s.ExtensionIDs, want)
	}
	// The system policy alone, as kyso install and kyso host read it.
	s, err = LoadSettings(Paths{System: paths.System})
	if err != nil || len(s.ExtensionIDs) != 2 || len(s.IgnoredUserKeys) != 0 {
		t.Fatalf("system only: %+v %v", s, err)
	}
}

// A malformed id breaks the policy like any other bad value: named with
// its file and line, and every origin denied until it is fixed.
func TestExtensionIDsMalformed(t *testing.T) {
	for _, id := range []string{"ABCDEFGHIJKLMNOPABCDEFGHIJKLMNOP", "abc", "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq",
		"chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/", ""} {
		paths := testPaths(t)
		writeFile(t, paths.System, "{\n  \"extensionIds\": [\n    \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\n    \""+id+"\"\n  ]\n}")
		_, err := LoadSettings(paths)
		if err == nil || !strings.Contains(err.Error(), paths.System+":4: extensionIds: ") {
			t.Errorf("%q: error %v", id, err)
		}
	}
	paths := testPaths(t)
	writeFile(t, paths.System, `{"extensionIds": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}`)
	if _, err := LoadSettings(paths); err == nil || !strings.Contains(err.Error(), `"extensionIds" must be a list`) {
		t.Errorf("a string for the list: %v", err)
	}
}
