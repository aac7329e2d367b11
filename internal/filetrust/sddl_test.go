package filetrust

import (
	"fmt"
	"strconv"
	"strings"
)

// parseSDDL reads the owner and the DACL of a security descriptor written
// in SDDL, as `icacls`/PowerShell's Get-Acl show real folders, into SD:
// the tests feed recorded descriptors of Windows folders to the rule.
// Only what those need: well-known SID aliases, rights as codes or hex.
func parseSDDL(s string) (SD, error) {
	var sd SD
	sawDACL := false
	for s != "" {
		if len(s) < 2 || s[1] != ':' {
			return SD{}, fmt.Errorf("sddl: bad component at %q", s)
		}
		part := s[0]
		s = s[2:]
		switch part {
		case 'O', 'G':
			sid, rest, err := readSID(s)
			if err != nil {
				return SD{}, err
			}
			if part == 'O' {
				sd.Owner = sid
			}
			s = rest
		case 'D':
			sawDACL = true
			i := strings.IndexAny(s, "(")
			flags := s
			if i >= 0 {
				flags = s[:i]
			}
			if strings.HasPrefix(flags, "NO_ACCESS_CONTROL") {
				sd.NullDACL = true
			}
			if i < 0 {
				return sd, nil
			}
			s = s[i:]
			for strings.HasPrefix(s, "(") {
				end := strings.IndexByte(s, ')')
				if end < 0 {
					return SD{}, fmt.Errorf("sddl: unterminated entry %q", s)
				}
				ace, err := parseACE(s[1:end])
				if err != nil {
					return SD{}, err
				}
				sd.DACL = append(sd.DACL, ace)
				s = s[end+1:]
			}
		default:
			return SD{}, fmt.Errorf("sddl: component %c not supported", part)
		}
	}
	if !sawDACL {
		sd.NullDACL = true
	}
	return sd, nil
}

var sddlAliases = map[string]string{
	"SY": sidSystem, "BA": sidAdministrators, "BU": "S-1-5-32-545", "AU": "S-1-5-11", "WD": "S-1-1-0",
	"CO": "S-1-3-0", "CG": "S-1-3-1", "OW": "S-1-3-4", "AC": "S-1-15-2-1", "IU": "S-1-5-4", "NU": "S-1-5-2",
	"AN": "S-1-5-7", "BG": "S-1-5-32-546", "PU": "S-1-5-32-547",
}

func readSID(s string) (sid, rest string, err error) {
	if strings.HasPrefix(s, "S-") {
		i := 2
		for i < len(s) && (s[i] == '-' || s[i] >= '0' && s[i] <= '9') {
			i++
		}
		return s[:i], s[i:], nil
	}
	if len(s) < 2 {
		return "", "", fmt.Errorf("sddl: bad SID %q", s)
	}
	sid, ok := sddlAliases[s[:2]]
	if !ok {
		return "", "", fmt.Errorf("sddl: unknown SID alias %q", s[:2])
	}
	return sid, s[2:], nil
}

var sddlRights = map[string]uint32{
	"GA": genericAll, "GR": 0x80000000, "GW": genericWrite, "GX": 0x20000000,
	"RC": 0x20000, "SD": rightDelete, "WD": rightWriteDAC, "WO": rightWriteOwner,
	"RP": 0x10, "WP": 0x20, "CC": 0x1, "DC": 0x2, "LC": 0x4, "SW": 0x8, "LO": 0x80, "DT": 0x40, "CR": 0x100,
	"FA": fileAllAccess, "FR": 0x120089, "FW": fileGenericWrite, "FX": 0x1200a0,
	"KA": keyAllAccess, "KR": 0x20019, "KW": keyWrite, "KX": 0x20019,
}

// parseACE reads "type;flags;rights;object;inherited object;sid".
func parseACE(s string) (ACE, error) {
	f := strings.Split(s, ";")
	if len(f) < 6 {
		return ACE{}, fmt.Errorf("sddl: entry %q: want 6 fields", s)
	}
	var a ACE
	switch f[0] {
	case "A", "XA", "OA":
		a.Allow = true
	case "D", "XD", "OD":
	default:
		return ACE{}, fmt.Errorf("sddl: entry type %q", f[0])
	}
	a.InheritOnly = strings.Contains(f[1], "IO")
	switch {
	case strings.HasPrefix(f[2], "0x"):
		n, err := strconv.ParseUint(f[2][2:], 16, 32)
		if err != nil {
			return ACE{}, fmt.Errorf("sddl: rights %q: %v", f[2], err)
		}
		a.Mask = uint32(n)
	default:
		for r := f[2]; r != ""; r = r[2:] {
			m, ok := sddlRights[r[:2]]
			if !ok {
				return ACE{}, fmt.Errorf("sddl: right %q", r[:2])
			}
			a.Mask |= m
		}
	}
	sid, rest, err := readSID(f[5])
	if err != nil || rest != "" {
		return ACE{}, fmt.Errorf("sddl: entry %q: SID %q", s, f[5])
	}
	a.SID = sid
	return a, nil
}
