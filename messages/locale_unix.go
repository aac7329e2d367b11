//go:build !windows

package messages

import "os"

// userLocales returns the locale that decides the message language: POSIX
// says LC_ALL overrides LC_MESSAGES, which overrides LANG.
func userLocales() []string {
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if l := os.Getenv(v); l != "" {
			return []string{l}
		}
	}
	return nil
}
