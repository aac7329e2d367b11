// Command demo serves the Kyso demo portal: an online public-service form
// and a batch-signing page that sign through kyso.js and are verified by
// the server. demo/run.sh (make demo) starts it beside `kyso serve`.
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"kyso.vn/kyso/demo/portal"
)

func main() {
	port := flag.Int("port", 8080, "port to listen on (loopback only)")
	kysoJS := flag.String("kyso-js", "", "path of the built page library, extension/kyso-js/dist/kyso.mjs (default: found from the working directory or $KYSO_REPO)")
	flag.Parse()
	log := zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: time.TimeOnly}).With().Timestamp().Logger()

	js := *kysoJS
	if js == "" {
		js = findKysoJS()
	}
	if _, err := os.Stat(js); err != nil {
		log.Warn().Str("path", js).Msg("kyso.js not found yet; the page will say so until it exists")
	}
	// Loopback only: the demo verifies signatures but is no public server.
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(*port))
	srv := &http.Server{
		Addr:              addr,
		Handler:           portal.New(portal.Options{KysoJS: js, Log: log}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
	}
	fmt.Fprintf(os.Stderr, "Cổng dịch vụ công (demo): http://localhost:%d/\n", *port)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// findKysoJS looks for the built page library, extension/kyso-js/dist/kyso.mjs
// (`make kyso-js`), under $KYSO_REPO, the working directory and its parents,
// then beside the executable's parent (bin/..).
func findKysoJS() string {
	rel := filepath.Join("extension", "kyso-js", "dist", "kyso.mjs")
	if r := os.Getenv("KYSO_REPO"); r != "" {
		return filepath.Join(r, rel)
	}
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		starts = append(starts, filepath.Dir(exe))
	}
	for _, d := range starts {
		for {
			p := filepath.Join(d, rel)
			if _, err := os.Stat(p); err == nil {
				return p
			}
			up := filepath.Dir(d)
			if up == d {
				break
			}
			d = up
		}
	}
	return rel
}
