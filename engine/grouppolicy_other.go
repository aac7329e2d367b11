//go:build !windows

package engine

// readGroupPolicy: Group Policy exists on Windows only.
func readGroupPolicy() (vals []regValue, found bool, err error) { return nil, false, nil }

// groupPolicySig: nothing to watch but the files.
func groupPolicySig() fileSig { return fileSig{} }
