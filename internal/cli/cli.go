// Package cli implements the auditpack command line: flag parsing, output
// and the mapping of outcomes to exit codes. The work itself lives in
// package audit.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

// Exit codes of every auditpack command.
const (
	// ExitOK means the run passed, or the pack verified.
	ExitOK = 0
	// ExitFail means a blocking policy rule failed (run) or verification
	// rejected the pack (verify).
	ExitFail = 1
	// ExitUsage means bad usage, configuration or input; nothing was
	// decided and no output was left behind.
	ExitUsage = 2
	// ExitSignal plus the signal's number is the exit code after SIGINT
	// (130) or SIGTERM (143) stopped the command, as a shell reports a
	// process that the signal killed. No output was left behind.
	ExitSignal = 128
)

// Interrupt is the cause of the cancellation of the context given to Main
// when a signal stops the command.
type Interrupt struct {
	Signal os.Signal
}

func (i *Interrupt) Error() string { return "interrupted by " + signalName(i.Signal) }

// ExitCode returns ExitSignal plus the signal's number.
func (i *Interrupt) ExitCode() int {
	if number, ok := i.Signal.(syscall.Signal); ok {
		return ExitSignal + int(number)
	}
	return ExitSignal + int(syscall.SIGINT)
}

// signalName returns the conventional name of the signals auditpack
// handles, such as SIGINT, and the Go name of any other.
func signalName(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

// Env lists the environment variables auditpack reads. Sensitive ones are
// never printed or logged.
var Env = []EnvVar{
	{Name: "SOURCE_DATE_EPOCH", Description: "seconds since the Unix epoch used as the pack's timestamp, for reproducible packs"},
	{Name: "COSIGN_PASSWORD", Description: "password of an encrypted cosign private key", Sensitive: true},
	{Name: "SIGSTORE_ID_TOKEN", Description: "OIDC identity token for keyless signing (audience sigstore)", Sensitive: true},
	{Name: "GITHUB_ACTIONS", Description: "\"true\" inside GitHub Actions: keyless signing becomes the default; the GitHub context (GITHUB_*) and the token request variables (ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN, the latter secret) are read through internal/actions"},
	{Name: "AUDITPACK_LOG_LEVEL", Description: "log level: debug, info (default), warn or error"},
}

// EnvVar declares one environment variable.
type EnvVar struct {
	Name        string
	Description string
	Sensitive   bool
}

// Command is one invocation of auditpack with its injected surroundings.
type Command struct {
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads the environment; only the variables in Env are read.
	Getenv  func(string) string
	Now     func() time.Time
	Version string
}

// exitError carries an exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

func usageError(err error) error { return &exitError{code: ExitUsage, err: err} }

// Main runs the command line args (without the program name) and returns
// the exit code.
func (c *Command) Main(ctx context.Context, args []string) int {
	root := c.root()
	root.SetArgs(args)
	root.SetOut(c.Stdout)
	root.SetErr(c.Stderr)

	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		// main cancels ctx with an *Interrupt; a test may cancel it
		// without a cause.
		var interrupt *Interrupt
		if errors.As(context.Cause(ctx), &interrupt) {
			fmt.Fprintf(c.Stderr, "auditpack: %v; no output was written\n", interrupt)
			return interrupt.ExitCode()
		}
		fmt.Fprintln(c.Stderr, "auditpack: interrupted; no output was written")
		return ExitSignal + int(syscall.SIGINT)
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.code != ExitOK {
			fmt.Fprintf(c.Stderr, "auditpack: %v\n", ee.err)
		}
		return ee.code
	}
	// Errors cobra raises itself are flag and argument problems.
	fmt.Fprintf(c.Stderr, "auditpack: %v\nRun 'auditpack --help' for usage.\n", err)
	return ExitUsage
}

func (c *Command) root() *cobra.Command {
	root := &cobra.Command{
		Use:   "auditpack",
		Short: "Build and verify signed AI audit packs",
		Long: `auditpack turns a model's evaluation results, data and artifacts into a
signed audit pack: metrics, policy verdicts, data lineage, a model card and
in-toto attestations signed with Sigstore.

Exit codes: 0 pass, 1 a blocking policy rule failed (run) or verification
failed (verify), 2 bad usage, configuration or input, 130 or 143 stopped
by SIGINT or SIGTERM (a second signal ends auditpack at once).`,
		Version:       c.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	root.AddCommand(c.runCommand(), c.verifyCommand(), c.lineageCommand(), c.actionCommand())
	return root
}

// logger writes human-readable logs to stderr at the level
// AUDITPACK_LOG_LEVEL names.
func (c *Command) logger() (*slog.Logger, error) {
	var level slog.Level
	if s := c.Getenv("AUDITPACK_LOG_LEVEL"); s != "" {
		if err := level.UnmarshalText([]byte(s)); err != nil {
			return nil, usageError(fmt.Errorf("AUDITPACK_LOG_LEVEL=%q: use debug, info, warn or error", s))
		}
	}
	return slog.New(slog.NewTextHandler(c.Stderr, &slog.HandlerOptions{Level: level})), nil
}
