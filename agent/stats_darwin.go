package agent

// residentBytes is 0 on macOS: the current resident size needs Mach's
// task_info (cgo), and getrusage gives only the peak.
func residentBytes() uint64 { return 0 }
