package engine

import "kyso.vn/kyso/internal/extid"

// SystemPolicyPath is the admin's policy file of this OS (no override).
func SystemPolicyPath() string { return systemPolicyPath() }

// SystemExtensionIDs reads the extensionIds of the system policy at path
// (SystemPolicyPath, or the same file under kyso install --root): the
// Chromium-family ids that kyso install writes into the host manifests
// and kyso host accepts as callers. A missing file gives none; a broken
// one gives an error naming the file and line, and one that another
// account than the administrators could have written gives none and an
// *UntrustedPolicy (systempolicy.go): a planted policy must not let an
// extension start the host.
func SystemExtensionIDs(path string) ([]string, error) {
	s, err := LoadSettings(Paths{System: path})
	return s.ExtensionIDs, err
}

// systemExtensionIDs are the Chromium-family ids of the system policy's
// extensionIds with Kyso's own: the ids it lists may start the native
// host, which a user (or a program running as the user) must not be able
// to widen, so a user's config that sets the key is ignored (systemOnly).
// Each was checked to have the form of a Chromium extension id as it was
// read (extensionID).
func systemExtensionIDs(sys []extensionID) []string {
	ids := make([]string, len(sys))
	for i, id := range sys {
		ids[i] = string(id)
	}
	return extid.Merge(ids)
}
