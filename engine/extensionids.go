package engine

import (
	"fmt"

	"kyso.vn/kyso/internal/extid"
)

// SystemPolicyPath is the admin's policy file of this OS (no override).
func SystemPolicyPath() string { return systemPolicyPath() }

// SystemExtensionIDs reads the extensionIds of the system policy at path
// (SystemPolicyPath, or the same file under kyso install --root): the
// Chromium-family ids that kyso install writes into the host manifests
// and kyso host accepts as callers. A missing file gives none; a broken
// one gives an error naming the file and line.
func SystemExtensionIDs(path string) ([]string, error) {
	s, err := LoadSettings(Paths{System: path})
	return s.ExtensionIDs, err
}

// systemExtensionIDs takes extensionIds from the system policy only: the
// ids it lists may start the native host, which a user (or a program
// running as the user) must not be able to widen. Each must have the form
// of a Chromium extension id (32 letters a–p), or the policy is broken. A
// user's config that sets the key is ignored with a warning.
func systemExtensionIDs(pol *policy, p Paths, sys, usr []string) error {
	for _, id := range sys {
		if !extid.Valid(id) {
			return fmt.Errorf("%s%s: extensionIds: %q is not a Chromium extension id (32 letters a–p, as chrome://extensions shows it)",
				p.System, lineOf(p.System, id), id)
		}
	}
	pol.ExtensionIDs = extid.Merge(sys)
	if usr != nil {
		pol.Warnings = append(pol.Warnings, fmt.Sprintf("%s%s: extensionIds is read from the system policy only; ignored here",
			p.User, lineOfKey(p.User, "extensionIds")))
	}
	return nil
}
