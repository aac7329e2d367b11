package agent

// residentBytes is 0 on Windows: the working set needs psapi's
// GetProcessMemoryInfo, which golang.org/x/sys/windows does not wrap.
func residentBytes() uint64 { return 0 }
