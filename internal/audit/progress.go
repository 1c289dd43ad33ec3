package audit

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/term"
)

// progressInterval is how often progress is shown: redrawn on a terminal,
// printed as a new line elsewhere (such as the Actions log).
const (
	terminalInterval = 200 * time.Millisecond
	logInterval      = 5 * time.Second
)

// progress reports hashed bytes against a total on w until stopped.
type progress struct {
	done     atomic.Int64
	total    int64
	w        io.Writer
	terminal bool
	start    time.Time
	quit     chan struct{}
	wg       sync.WaitGroup
}

// startProgress starts reporting to w; with a nil w it reports nothing and
// add does nothing but count.
func startProgress(ctx context.Context, w io.Writer, total int64) *progress {
	p := &progress{total: total, w: w, start: time.Now(), quit: make(chan struct{})}
	if w == nil {
		return p
	}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.terminal = true
	}
	interval := logInterval
	if p.terminal {
		interval = terminalInterval
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		for {
			select {
			case <-ticker.C:
				p.show(false)
			case <-p.quit:
				p.show(true)
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return p
}

func (p *progress) add(n int64) { p.done.Add(n) }

// stop ends the reporting; on a terminal the bar is finished with a
// newline, elsewhere a last line is printed only for long work.
func (p *progress) stop() {
	if p.w == nil {
		return
	}
	close(p.quit)
	p.wg.Wait()
}

func (p *progress) show(final bool) {
	done := p.done.Load()
	elapsed := time.Since(p.start)
	if !p.terminal && final && elapsed < logInterval {
		return
	}
	rate := float64(done) / max(elapsed.Seconds(), 1e-3) / 1e6
	percent := 100.0
	if p.total > 0 {
		percent = min(100, 100*float64(done)/float64(p.total))
	}
	if !p.terminal {
		fmt.Fprintf(p.w, "hashing: %.0f%% (%s of %s, %.0f MB/s)\n", percent, megabytes(done), megabytes(p.total), rate)
		return
	}
	const width = 30
	filled := int(percent / 100 * width)
	fmt.Fprintf(p.w, "\rhashing [%s%s] %3.0f%% %s of %s %.0f MB/s", strings.Repeat("=", filled), strings.Repeat(" ", width-filled), percent, megabytes(done), megabytes(p.total), rate)
	if final {
		fmt.Fprintln(p.w)
	}
}

func megabytes(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
