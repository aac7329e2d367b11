package limits

import (
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// `go test -run '^$' -bench . ./internal/limits/`

// What the shared limits cost each interactive request (a sign, even under
// a kept login): the rate-limit count, then the one-dialog lock taken and
// given back.
func BenchmarkSharedLimitsPerRequest(b *testing.B) {
	lim, err := SharedAt(b.TempDir(), zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	since := time.Now().Add(-time.Minute)
	b.ReportAllocs()
	for b.Loop() {
		if n, err := lim.Declines.Count("https://portal.example", since); err != nil || n != 0 {
			b.Fatal(n, err)
		}
		release, ok, err := lim.Gate.TryAcquire()
		if err != nil || !ok {
			b.Fatal(ok, err)
		}
		release()
	}
}
