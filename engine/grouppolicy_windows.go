package engine

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows/registry"

	"kyso.vn/kyso/internal/filetrust"
)

// gpPath is the Group Policy key under HKEY_LOCAL_MACHINE, in the 64-bit
// view (Kyso ships 64-bit only; the view is named so that it never
// depends on that).
const gpPath = `SOFTWARE\Policies\Kyso`

func openGroupPolicy() (registry.Key, error) {
	return registry.OpenKey(registry.LOCAL_MACHINE, gpPath, registry.READ|registry.WOW64_64KEY)
}

// readGroupPolicy reads every value of the Group Policy key; found is false
// when there is no key. The key must be changeable by administrators only
// (a standard user cannot create it under HKLM\SOFTWARE\Policies, but a
// careless ACL could open it), by the rule of the policy file.
func readGroupPolicy() (vals []regValue, found bool, err error) {
	k, err := openGroupPolicy()
	if errors.Is(err, registry.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading %s: %w", gpKey, err)
	}
	defer k.Close()
	if err := filetrust.CheckRegistryKey(k, gpKey); err != nil {
		return nil, true, &UntrustedPolicy{Path: gpKey, Err: err}
	}
	names, err := k.ReadValueNames(0)
	if err != nil {
		return nil, true, fmt.Errorf("reading %s: %w", gpKey, err)
	}
	for _, n := range names {
		v := regValue{name: n}
		_, v.typ, err = k.GetValue(n, nil)
		if err == nil {
			switch v.typ {
			case regSZ, regExpandSZ:
				v.str, _, err = k.GetStringValue(n)
			case regMultiSZ:
				v.strs, _, err = k.GetStringsValue(n)
			case regDWORD, regQWORD:
				v.num, _, err = k.GetIntegerValue(n)
			}
		}
		if err != nil {
			return nil, true, fmt.Errorf(`reading %s\%s: %w`, gpKey, n, err)
		}
		vals = append(vals, v)
	}
	return vals, true, nil
}

// groupPolicySig tells that the Group Policy values changed: the key's last
// write time, which changes with every value set or deleted.
func groupPolicySig() fileSig {
	k, err := openGroupPolicy()
	if err != nil {
		return fileSig{}
	}
	defer k.Close()
	st, err := k.Stat()
	if err != nil {
		return fileSig{exists: true}
	}
	return fileSig{exists: true, mod: st.ModTime(), size: int64(st.ValueCount)}
}
