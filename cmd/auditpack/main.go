// Command auditpack builds and verifies signed AI audit packs.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/auditpack/auditpack/internal/cli"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

func main() {
	ctx := cancelOnSignal()
	cmd := &cli.Command{
		Stdout:  os.Stdout,
		Stderr:  os.Stderr,
		Getenv:  os.Getenv,
		Now:     time.Now,
		Version: toolVersion(),
	}
	code := cmd.Main(ctx, os.Args[1:])
	os.Exit(code)
}

// cancelOnSignal returns a context that the first SIGINT or SIGTERM
// cancels, with a *cli.Interrupt as the cause. The command then stops at
// its next check of the context. A second signal gets the signal's default
// action, which ends the process at once.
func cancelOnSignal() context.Context {
	ctx, cancel := context.WithCancelCause(context.Background())
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-signals
		// Once no channel is registered for them, Go restores the default
		// action of both signals.
		signal.Stop(signals)
		cancel(&cli.Interrupt{Signal: s})
	}()
	return ctx
}

// toolVersion returns the version set at build time, else the module
// version Go recorded, else "devel" with the commit Go recorded, if any.
func toolVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	return versionOf(info)
}

// versionOf returns the module version in info, or "devel+REVISION" (with
// "-dirty" for uncommitted changes) for a build from a source tree.
func versionOf(info *debug.BuildInfo) string {
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var revision, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if revision == "" {
		return "devel"
	}
	v := "devel+" + revision[:min(12, len(revision))]
	if modified == "true" {
		v += "-dirty"
	}
	return v
}
