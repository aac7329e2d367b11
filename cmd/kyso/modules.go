package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/rs/zerolog"

	"kyso.vn/kyso/installer"
	"kyso.vn/kyso/token"
)

func init() {
	register(command{name: "modules", usage: "PKCS#11 modules that crashed Kyso; 'modules enable PATH' tries one again", run: runModules})
}

// openJournal opens the crash journal every Kyso process that calls into
// PKCS#11 modules shares (docs/tokens.md, "A module that crashes Kyso").
// Without it Kyso still runs; it just cannot skip a crashing module.
func openJournal(log zerolog.Logger) *token.Journal {
	dir, err := token.JournalDir()
	if err != nil {
		log.Error().Err(err).Msg("no crash journal: a crashing PKCS#11 module will not be skipped")
		return nil
	}
	j, err := token.OpenJournal(dir, log)
	if err != nil {
		log.Error().Err(err).Msg("crash journal incomplete: new crashes are not counted")
	}
	return j
}

// runModules is `kyso modules` (list what the crash journal knows) and
// `kyso modules enable PATH` (forget a module's crashes: it is loaded
// again at the next request, or the agent's next start).
func runModules(args []string) error {
	vi := localeIsVietnamese()
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Println(pick(vi,
			"Cách dùng: kyso modules            liệt kê mô-đun PKCS#11 đã làm Kyso dừng đột ngột\n           kyso modules enable ĐƯỜNG_DẪN  cho phép nạp lại mô-đun đó",
			"Usage: kyso modules               list the PKCS#11 modules that crashed Kyso\n       kyso modules enable PATH   allow that module to be loaded again"))
		return nil
	}
	j := openJournal(zerolog.Nop())
	if j == nil {
		return errors.New(pick(vi, "không mở được nhật ký sự cố", "cannot open the crash journal"))
	}
	defer j.Close()
	switch {
	case len(args) == 0 || args[0] == "list":
		printCrashRecords(os.Stdout, j.Records(), vi)
		return nil
	case args[0] == "enable" && len(args) == 2:
		found, err := j.Enable(args[1])
		if err != nil {
			return err
		}
		if !found {
			return &exitError{code: 1, msg: pick(vi,
				fmt.Sprintf("mô-đun %s không bị tắt (nhật ký sự cố không ghi gì về nó)", args[1]),
				fmt.Sprintf("module %s is not disabled (the crash journal has nothing on it)", args[1]))}
		}
		fmt.Println(pick(vi,
			fmt.Sprintf("Đã bật lại %s: Kyso sẽ nạp nó ở yêu cầu tiếp theo. Nếu nó lại làm Kyso dừng hai lần liên tiếp, nó sẽ bị tắt lần nữa.", args[1]),
			fmt.Sprintf("Re-enabled %s: Kyso loads it at the next request. If it crashes Kyso twice in a row again, it is disabled again.", args[1])))
		return nil
	}
	return &exitError{code: 2, msg: pick(vi, "cách dùng: kyso modules [enable ĐƯỜNG_DẪN]", "usage: kyso modules [enable PATH]")}
}

func printCrashRecords(w io.Writer, recs map[string]token.ModuleRecord, vi bool) {
	if len(recs) == 0 {
		fmt.Fprintln(w, pick(vi, "Không có mô-đun PKCS#11 nào làm Kyso dừng đột ngột.", "No PKCS#11 module has crashed Kyso."))
		return
	}
	for _, p := range token.SortedPaths(recs) {
		f := crashFinding(p, recs[p])
		fmt.Fprintln(w, f.Problem.In(vi))
		if fix := f.Fix.In(vi); fix != "" {
			fmt.Fprintf(w, "    → %s\n", fix)
		}
	}
}

// crashFinding describes one module the journal knows: a fault when it is
// disabled (the user's token may be unusable until it is fixed), a note
// while it crashed once.
func crashFinding(path string, r token.ModuleRecord) installer.Finding {
	when := ""
	if !r.At.IsZero() {
		when = ", " + r.At.Local().Format("2006-01-02 15:04")
	}
	if r.Disabled {
		return installer.Finding{Check: "module-crash", Level: installer.LevelFault,
			Problem: installer.Text{
				VI: fmt.Sprintf("Mô-đun PKCS#11 %s đã làm Kyso dừng đột ngột %d lần liên tiếp (lần cuối trong %s%s) nên đã bị TẮT: token dùng mô-đun này không ký được.", path, r.Crashes, r.Call, when),
				EN: fmt.Sprintf("PKCS#11 module %s crashed Kyso %d times in a row (last in %s%s) and is DISABLED: tokens that need it cannot sign.", path, r.Crashes, r.Call, when)},
			Fix: installer.Text{
				VI: "Cập nhật trình điều khiển token của nhà cung cấp, rồi chạy: kyso modules enable " + path,
				EN: "Update the token vendor's driver, then run: kyso modules enable " + path}}
	}
	return installer.Finding{Check: "module-crash", Level: installer.LevelNote,
		Problem: installer.Text{
			VI: fmt.Sprintf("Mô-đun PKCS#11 %s đã làm Kyso dừng đột ngột một lần (trong %s%s); nếu lặp lại lần nữa, nó sẽ bị tắt. kyso doctor không nạp nó.", path, r.Call, when),
			EN: fmt.Sprintf("PKCS#11 module %s crashed Kyso once (in %s%s); one more time and it is disabled. kyso doctor does not load it.", path, r.Call, when)}}
}
