// Package actions is the GitHub Actions runtime of auditpack: it reads the
// environment (inputs, the GitHub context, the event payload) through one
// declared set of variables, and writes outputs, the job summary,
// annotations, log groups and masks. It builds on
// github.com/sethvargo/go-githubactions for command formatting and OIDC
// tokens, and returns errors where that library panics.
package actions

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"

	githubactions "github.com/sethvargo/go-githubactions"
)

// ErrNotInActions means GITHUB_ACTIONS is not "true", so workflow commands
// would print raw to a terminal instead of reaching a runner.
var ErrNotInActions = errors.New("not running in GitHub Actions: GITHUB_ACTIONS is not \"true\"")

// ErrSummaryTooLarge means an append would take the job summary over the
// 1 MiB GitHub accepts for one step.
var ErrSummaryTooLarge = errors.New("job summary exceeds 1 MiB")

// maxSummarySize is GitHub's limit on one step's job summary.
const maxSummarySize = 1 << 20

// redacted replaces a secret in anything the runtime prints.
const redacted = "***"

// Options configures a Runtime. Zero fields select the defaults.
type Options struct {
	// Getenv reads environment variables. Default os.Getenv.
	Getenv Getenv
	// Stdout receives workflow commands and log lines. Default os.Stdout.
	Stdout io.Writer
	// HTTPClient requests OIDC tokens. Default: go-githubactions' client
	// with a 10s timeout.
	HTTPClient *http.Client
}

// Runtime writes to the GitHub Actions runner: workflow commands on stdout,
// outputs and the job summary to the files the runner names. Every secret
// registered with Mask is masked by the runner and redacted from what the
// Runtime prints.
// It is safe for concurrent use.
type Runtime struct {
	env *Env
	ga  *githubactions.Action

	mu      sync.Mutex // serializes writes and guards secrets
	out     io.Writer
	secrets []string // sorted longest first, so that redaction replaces whole values
}

// New returns a Runtime and masks the value of every declared sensitive
// variable that is set. It fails with ErrNotInActions outside GitHub Actions.
func New(opts Options) (*Runtime, error) {
	env := NewEnv(opts.Getenv)
	if !env.InActions() {
		return nil, ErrNotInActions
	}
	out := opts.Stdout
	if out == nil {
		out = os.Stdout
	}
	gaOpts := []githubactions.Option{
		githubactions.WithWriter(out),
		githubactions.WithGetenv(func(name string) string { return env.Get(Var(name)) }),
	}
	if opts.HTTPClient != nil {
		gaOpts = append(gaOpts, githubactions.WithHTTPClient(opts.HTTPClient))
	}
	r := &Runtime{env: env, ga: githubactions.New(gaOpts...), out: out}

	for _, secret := range env.secrets() {
		if err := r.Mask(secret); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Env returns the environment the runtime reads.
func (r *Runtime) Env() *Env { return r.env }

// Input returns the action input name; see Env.Input.
func (r *Runtime) Input(name string) string { return r.env.Input(name) }

// SecretInput returns the action input name and masks its value first, for
// inputs such as a token.
func (r *Runtime) SecretInput(name string) (string, error) {
	value := r.env.Input(name)
	if err := r.Mask(value); err != nil {
		return "", err
	}
	return value, nil
}

// Mask issues the add-mask command for secret, so that the runner hides it
// in the log, and redacts it from everything this runtime prints afterwards. For a multi-line secret each
// line is masked too, because the runner matches line by line. Empty and
// blank values are ignored.
func (r *Runtime) Mask(secret string) error {
	values := []string{secret}
	if strings.ContainsAny(secret, "\r\n") {
		for _, line := range strings.FieldsFunc(secret, func(c rune) bool { return c == '\r' || c == '\n' }) {
			values = append(values, line)
		}
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range values {
		if strings.TrimSpace(v) == "" || slices.Contains(r.secrets, v) {
			continue
		}
		// The add-mask command is the one line that carries the secret
		// itself; the runner consumes it and never shows it.
		cmd := githubactions.Command{Name: "add-mask", Message: v}
		if _, err := io.WriteString(r.out, cmd.String()+"\n"); err != nil {
			return fmt.Errorf("writing add-mask command: %w", err)
		}
		r.secrets = append(r.secrets, v)
	}
	slices.SortFunc(r.secrets, func(a, b string) int { return len(b) - len(a) })
	return nil
}

// Redact returns s with every masked secret replaced by "***".
func (r *Runtime) Redact(s string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.redactLocked(s)
}

func (r *Runtime) redactLocked(s string) string {
	for _, secret := range r.secrets {
		s = strings.ReplaceAll(s, secret, redacted)
	}
	return s
}

// writeLine redacts line and writes it with a line break.
func (r *Runtime) writeLine(line string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := io.WriteString(r.out, r.redactLocked(line)+"\n"); err != nil {
		return fmt.Errorf("writing to the Actions log: %w", err)
	}
	return nil
}

// command formats a workflow command, escaping the message and properties
// as the runner expects; see go-githubactions Command.String.
func (r *Runtime) command(name, message string, props map[string]string) error {
	r.mu.Lock()
	message = r.redactLocked(message)
	for k, v := range props {
		props[k] = r.redactLocked(v)
	}
	r.mu.Unlock()
	cmd := githubactions.Command{Name: name, Message: message, Properties: props}
	return r.writeLine(cmd.String())
}

// SetOutput appends the step output name=value to the file named by
// GITHUB_OUTPUT. The value may span lines: it is written between random
// delimiters that occur neither in the name nor in the value.
func (r *Runtime) SetOutput(name, value string) error {
	if name == "" || strings.ContainsAny(name, "\r\n=") || strings.Contains(name, "<<") {
		return fmt.Errorf("invalid output name %q: it must be non-empty and contain no line break, \"=\" or \"<<\"", name)
	}
	delimiter, err := newDelimiter(name, value)
	if err != nil {
		return err
	}
	record := name + "<<" + delimiter + "\n" + value + "\n" + delimiter + "\n"
	return r.appendFile(VarGitHubOutput, record, 0)
}

// newDelimiter returns "ghadelimiter_" and 26 random base32 characters,
// drawing again in the unlikely case that name or value contains it.
func newDelimiter(name, value string) (string, error) {
	for range 10 {
		d := "ghadelimiter_" + rand.Text()
		if !strings.Contains(name, d) && !strings.Contains(value, d) {
			return d, nil
		}
	}
	return "", errors.New("could not choose an output delimiter absent from the value")
}

// AppendSummary appends Markdown to the job summary file named by
// GITHUB_STEP_SUMMARY, ending it with a line break. Masked secrets are
// redacted. An append that would take the file over 1 MiB fails with
// ErrSummaryTooLarge and writes nothing.
func (r *Runtime) AppendSummary(markdown string) error {
	if !strings.HasSuffix(markdown, "\n") {
		markdown += "\n"
	}
	return r.appendFile(VarGitHubStepSummary, r.Redact(markdown), maxSummarySize)
}

// appendFile appends text to the file named by variable. When limit is
// positive, an append that would make the file larger fails.
func (r *Runtime) appendFile(variable Var, text string, limit int64) error {
	path := r.env.Get(variable)
	if path == "" {
		return fmt.Errorf("%s is not set", variable)
	}
	r.mu.Lock()
	defer r.mu.Unlock()

	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("opening %s file: %w", variable, err)
	}
	if limit > 0 {
		info, err := f.Stat()
		if err != nil {
			_ = f.Close()
			return fmt.Errorf("reading %s file: %w", variable, err)
		}
		if size := info.Size() + int64(len(text)); size > limit {
			_ = f.Close()
			return fmt.Errorf("appending %d bytes to %s file of %d bytes: %w", len(text), variable, info.Size(), ErrSummaryTooLarge)
		}
	}
	if _, err := io.WriteString(f, text); err != nil {
		_ = f.Close()
		return fmt.Errorf("writing %s file: %w", variable, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s file: %w", variable, err)
	}
	return nil
}

// AnnotationLevel is the severity of an annotation.
type AnnotationLevel string

// Annotation levels, named as the workflow commands.
const (
	LevelErrorAnnotation   AnnotationLevel = "error"
	LevelWarningAnnotation AnnotationLevel = "warning"
	LevelNoticeAnnotation  AnnotationLevel = "notice"
)

// Annotation is a message the runner attaches to the run and, when File is
// set, to a line of that file in the pull request diff. GitHub shows at
// most 10 annotations of each level per step.
type Annotation struct {
	Level   AnnotationLevel
	Message string
	// Title is shown above the message; optional.
	Title string
	// File is relative to the repository root; optional.
	File string
	// Line, EndLine, Column and EndColumn are 1-based; 0 omits them.
	Line      int
	EndLine   int
	Column    int
	EndColumn int
}

// Annotate issues an error, warning or notice command.
func (r *Runtime) Annotate(a Annotation) error {
	switch a.Level {
	case LevelErrorAnnotation, LevelWarningAnnotation, LevelNoticeAnnotation:
	default:
		return fmt.Errorf("invalid annotation level %q: use error, warning or notice", a.Level)
	}
	props := map[string]string{}
	if a.Title != "" {
		props["title"] = a.Title
	}
	if a.File != "" {
		props["file"] = a.File
	}
	for key, n := range map[string]int{"line": a.Line, "endLine": a.EndLine, "col": a.Column, "endColumn": a.EndColumn} {
		if n > 0 {
			props[key] = strconv.Itoa(n)
		}
	}
	return r.command(string(a.Level), a.Message, props)
}

// StartGroup begins a collapsible group of log lines titled title.
func (r *Runtime) StartGroup(title string) error {
	return r.command("group", title, nil)
}

// EndGroup ends the current log group.
func (r *Runtime) EndGroup() error {
	return r.command("endgroup", "", nil)
}

// Group runs fn inside a log group titled title and ends the group even when
// fn fails. It returns fn's error, or the error of writing the group lines.
func (r *Runtime) Group(title string, fn func() error) error {
	if err := r.StartGroup(title); err != nil {
		return err
	}
	fnErr := fn()
	endErr := r.EndGroup()
	if fnErr != nil {
		return fnErr
	}
	return endErr
}

// Debug writes a debug message, which the runner shows only when debug
// logging is enabled.
func (r *Runtime) Debug(message string) error {
	return r.command("debug", message, nil)
}

// IDToken requests an OIDC token for audience from the Actions token
// service and masks it. The job needs the permission id-token: write.
func (r *Runtime) IDToken(ctx context.Context, audience string) (string, error) {
	token, err := r.ga.GetIDToken(ctx, audience)
	if err != nil {
		return "", fmt.Errorf("requesting OIDC token for audience %q: %w", audience, err)
	}
	if err := r.Mask(token); err != nil {
		return "", err
	}
	return token, nil
}
