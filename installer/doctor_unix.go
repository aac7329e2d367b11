//go:build !windows

package installer

import "io/fs"

func executable(st fs.FileInfo) bool { return st.Mode()&0o111 != 0 }

// Chromium and Firefox want an absolute host path on Linux and macOS.
const relativeHostPathOK = false
