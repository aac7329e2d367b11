package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"kyso.vn/kyso/internal/audit"
	"kyso.vn/kyso/internal/logging"
	"kyso.vn/kyso/messages"
	"kyso.vn/kyso/protocol"
)

func init() {
	register(command{name: "history", usage: messages.HelpHistory, more: messages.HistoryMore, run: runHistory})
}

// historyItems is how many hashes or documents of one record the person's
// view shows; --json has them all.
const historyItems = 5

// runHistory is `kyso history [--limit N] [--json]`: the signing record
// (internal/audit), newest first, for the person in their language, or in
// full as JSON for admins.
func runHistory(args []string) error {
	f := newFlags("history", messages.HistorySynopsis)
	limit := f.intFlag("limit", 50, messages.ArgN, messages.FlagLimit)
	asJSON := f.boolFlag("json", messages.FlagJSON)
	words, err := f.parse(args)
	if err != nil {
		return err
	}
	if err := noWords(words); err != nil {
		return err
	}
	if *limit < 0 {
		return &exitError{code: 2, msg: say(messages.HistoryBadLimit, *limit)}
	}
	dir, err := logging.Dir()
	if err != nil {
		return err
	}
	recs, skipped, err := audit.Read(dir, *limit)
	if err != nil {
		return err
	}
	if *asJSON {
		if recs == nil {
			recs = []audit.Record{}
		}
		b, err := json.MarshalIndent(recs, "", "  ")
		if err != nil {
			return err
		}
		fmt.Println(string(b))
		return nil
	}
	printHistory(os.Stdout, recs, skipped, messages.Lang())
	return nil
}

func printHistory(w io.Writer, recs []audit.Record, skipped int, lang string) {
	if len(recs) == 0 {
		fmt.Fprintln(w, messages.HistoryEmpty.In(lang))
	}
	for i, r := range recs {
		if i > 0 {
			fmt.Fprintln(w)
		}
		at := r.Time.Local().Format(messages.DateLayout.In(lang) + " 15:04:05")
		fmt.Fprintf(w, "%s  %s\n", at, shown(r.Origin))
		fmt.Fprintf(w, "    %s: %s\n", historyOp(r, lang), historyOutcome(r.Outcome, lang))
		if r.CertID != "" || r.Subject != "" {
			cert := strings.TrimSpace(shown(r.Subject) + " " + shown(r.CertID))
			fmt.Fprintf(w, "    %s\n", messages.PINHolder.In(lang, cert))
		}
		if r.Description != "" {
			fmt.Fprintf(w, "    %s %s\n", messages.PINDescription.In(lang), strconv.Quote(r.Description))
		}
		for j, it := range r.Items {
			if j == historyItems {
				fmt.Fprintf(w, "    %s\n", messages.HistoryItemsMore.In(lang, len(r.Items)-historyItems))
				break
			}
			if it.Document != "" {
				fmt.Fprintf(w, "    %s\n", messages.HistoryDocument.In(lang, strconv.Quote(it.Document), shown(it.SHA256)))
				continue
			}
			fmt.Fprintf(w, "    %s %s\n", shown(it.HashFunction), shown(it.Hash))
		}
	}
	if skipped > 0 {
		fmt.Fprintln(w, messages.HistorySkipped.In(lang, skipped))
	}
}

// historyOp says what the operation was, as the PIN dialog says it.
func historyOp(r audit.Record, lang string) string {
	switch r.Op {
	case "getCertificate":
		return messages.HistoryGetCertificate.In(lang)
	case "sign", "signBatch", "signPdf", "signCms", "signXml":
		if len(r.Items) <= 1 {
			return messages.PINSignOne.In(lang)
		}
		return messages.PINSignN.In(lang, len(r.Items))
	}
	return shown(r.Op)
}

// historyOutcome is the outcome for people: done, or the error code's
// message ("Người dùng đã hủy.").
func historyOutcome(outcome, lang string) string {
	code := protocol.Code(outcome)
	switch {
	case outcome == "OK":
		return messages.HistoryOK.In(lang)
	case slices.Contains(protocol.Codes, code):
		return strings.TrimSuffix(messages.Error(code).In(lang), ".") + " (" + outcome + ")"
	}
	return shown(outcome)
}

// shown keeps what the record holds from steering the terminal: the file
// is the user's own and Kyso wrote it from checked values, but it is read
// as text a person trusts.
func shown(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return '\uFFFD'
		}
		return r
	}, s)
}
