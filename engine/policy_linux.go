package engine

// systemPolicyPath is the admin's policy file. It has no override: what an
// admin locks, a user cannot unlock.
func systemPolicyPath() string { return "/etc/kyso/policy.json" }
