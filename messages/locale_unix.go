//go:build !windows

package messages

import "os"

// envLocales returns the locale the environment sets for messages: POSIX
// says LC_ALL overrides LC_MESSAGES, which overrides LANG.
func envLocales() []string {
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if l := os.Getenv(v); l != "" {
			return []string{l}
		}
	}
	return nil
}
