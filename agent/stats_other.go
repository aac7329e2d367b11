//go:build !linux

package agent

// residentBytes is 0 outside Linux: on macOS the current resident size needs
// Mach's task_info (cgo), and getrusage gives only the peak; on Windows the
// working set needs psapi's GetProcessMemoryInfo, which
// golang.org/x/sys/windows does not wrap.
func residentBytes() uint64 { return 0 }
