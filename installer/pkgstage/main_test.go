package main

import "testing"

func TestPackageVersion(t *testing.T) {
	for in, want := range map[string]string{
		"v1.2.3":                       "1.2.3",
		"1.2.3":                        "1.2.3",
		"v1.2.3-4-gabc1234":            "1.2.3+4.gabc1234",
		"v1.2.3-dirty":                 "1.2.3+dirty",
		"94b0f3c":                      "0.0.0+git.94b0f3c",
		"1.2.3-dev+0123456789ab":       "1.2.3+dev+0123456789ab",
		"0.0.0-dev+0123456789ab.dirty": "0.0.0+dev+0123456789ab.dirty",
		"94b0f3c-dirty":                "0.0.0+git.94b0f3c.dirty",
		"0.0.0-dev":                    "0.0.0+dev",
	} {
		if got := PackageVersion(in); got != want {
			t.Errorf("PackageVersion(%q) = %q, want %q", in, got, want)
		}
	}
}
