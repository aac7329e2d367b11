package main

import (
	"encoding/json"
	"io"

	"kyso.vn/kyso/engine"
	"kyso.vn/kyso/installer"
)

// doctorReport is `kyso doctor --json`, for scripts and admins' inventory
// tools. The schema is documented in docs/cli.md; a change that breaks a
// reader raises Schema. Scripts branch on "ok", "check" and "level"; the
// texts are for people, in both languages.
type doctorReport struct {
	Schema   int             `json:"schema"`
	Version  string          `json:"version"`
	OK       bool            `json:"ok"`
	Findings []doctorFinding `json:"findings"`
}

type doctorFinding struct {
	Check   string    `json:"check"`
	Level   string    `json:"level"` // "ok", "note" or "fault"
	Message bilingual `json:"message"`
	Fix     bilingual `json:"fix,omitzero"`
}

type bilingual struct {
	VI string `json:"vi,omitempty"`
	EN string `json:"en,omitempty"`
}

// doctorSchema is the version of doctorReport's layout.
const doctorSchema = 1

var levelNames = map[installer.Level]string{
	installer.LevelOK: "ok", installer.LevelNote: "note", installer.LevelFault: "fault",
}

func writeDoctorJSON(w io.Writer, findings []installer.Finding, ok bool) error {
	r := doctorReport{Schema: doctorSchema, Version: engine.Version, OK: ok, Findings: []doctorFinding{}}
	for _, f := range findings {
		r.Findings = append(r.Findings, doctorFinding{
			Check:   f.Check,
			Level:   levelNames[f.Level],
			Message: bilingual(f.Problem),
			Fix:     bilingual(f.Fix),
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}
