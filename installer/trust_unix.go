//go:build linux || darwin

package installer

func checkPlatform(Options) error { return nil }
