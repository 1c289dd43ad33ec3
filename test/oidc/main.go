// Command oidc is a minimal OpenID Connect issuer for tests. It takes the
// place of GitHub Actions' token issuer on a loopback address, so that
// Fulcio, cosign and auditpack can sign keylessly without reaching GitHub.
//
// Routes:
//
//	GET  /.well-known/openid-configuration  discovery document
//	GET  /.well-known/jwks                  the RS256 verification key
//	GET  /token?audience=AUD                a signed token (application/jwt)
//	POST /token?audience=AUD                the same, with a JSON object of
//	                                        claim overrides as the body
//	GET  /actions/idtoken?audience=AUD      the Actions runner protocol:
//	                                        needs Authorization: Bearer
//	                                        TOKEN and returns {"value": JWT}
//
// The signing key lives in memory only, so tokens from an earlier run do not
// verify against a new one.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

// errBadUsage marks command-line errors, which exit with status 2.
var errBadUsage = errors.New("bad usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	switch {
	case errors.Is(err, errBadUsage):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "oidc:", err)
		os.Exit(1)
	}
}

// options holds the parsed command line.
type options struct {
	listen       string
	issuerURL    string
	urlFile      string
	claimsFile   string
	requestToken string
	lifetime     time.Duration
	identity     identity
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	opts := options{identity: defaultIdentity()}
	fs := flag.NewFlagSet("oidc", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&opts.listen, "listen", "127.0.0.1:0", "loopback `host:port` to listen on; port 0 picks a free port")
	fs.StringVar(&opts.issuerURL, "issuer-url", "", "issuer `URL` put into iss and the discovery document (default http://LISTEN-ADDRESS)")
	fs.StringVar(&opts.urlFile, "url-file", "", "`file` to write the issuer URL to once the server is listening")
	fs.StringVar(&opts.claimsFile, "claims", "", "JSON `file` with an object of claims that replace or add to the defaults; null removes a claim")
	fs.StringVar(&opts.requestToken, "request-token", "", "bearer `token` that GET /actions/idtoken requires (ACTIONS_ID_TOKEN_REQUEST_TOKEN); empty disables that route")
	fs.DurationVar(&opts.lifetime, "lifetime", 10*time.Minute, "how long tokens stay valid")
	fs.StringVar(&opts.identity.Repository, "repository", opts.identity.Repository, "repository claim, OWNER/NAME; sub, workflow_ref and job_workflow_ref derive from it")
	fs.StringVar(&opts.identity.RepositoryID, "repository-id", opts.identity.RepositoryID, "repository_id claim")
	fs.StringVar(&opts.identity.RepositoryOwnerID, "owner-id", opts.identity.RepositoryOwnerID, "repository_owner_id and actor_id claims")
	fs.StringVar(&opts.identity.Ref, "ref", opts.identity.Ref, "ref claim, a full Git ref")
	fs.StringVar(&opts.identity.SHA, "sha", opts.identity.SHA, "sha, workflow_sha and job_workflow_sha claims")
	fs.StringVar(&opts.identity.WorkflowPath, "workflow", opts.identity.WorkflowPath, "workflow file `path` inside the repository, used in workflow_ref and job_workflow_ref")
	fs.StringVar(&opts.identity.EventName, "event", opts.identity.EventName, "event_name claim")
	fs.StringVar(&opts.identity.RunID, "run-id", opts.identity.RunID, "run_id claim")

	if err := fs.Parse(args); err != nil {
		return options{}, fmt.Errorf("%w: %w", errBadUsage, err)
	}
	if fs.NArg() > 0 {
		return options{}, usageError(fs, "unexpected argument %q", fs.Arg(0))
	}
	if opts.lifetime < time.Second {
		return options{}, usageError(fs, "-lifetime %s is too short: use at least 1s", opts.lifetime)
	}
	if err := opts.identity.validate(); err != nil {
		return options{}, usageError(fs, "%v", err)
	}
	if err := requireLoopback(opts.listen); err != nil {
		return options{}, usageError(fs, "%v", err)
	}
	return opts, nil
}

func usageError(fs *flag.FlagSet, format string, args ...any) error {
	fmt.Fprintf(fs.Output(), "oidc: "+format+"\n", args...)
	return errBadUsage
}

// requireLoopback rejects listen addresses other than loopback ones, so
// that the test issuer is never reachable from another machine.
func requireLoopback(address string) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("-listen %q is invalid: %w", address, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-listen %q is not a loopback address: use 127.0.0.1:PORT", address)
	}
	return nil
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	opts, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))

	claims := opts.identity.claims()
	if opts.claimsFile != "" {
		overrides, err := readClaimsFile(opts.claimsFile)
		if err != nil {
			return err
		}
		if claims, err = mergeClaims(claims, overrides); err != nil {
			return fmt.Errorf("claims file %q: %w", opts.claimsFile, err)
		}
	}

	listener, err := net.Listen("tcp", opts.listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", opts.listen, err)
	}
	issuerURL := opts.issuerURL
	if issuerURL == "" {
		issuerURL = "http://" + listener.Addr().String()
	}
	is, err := newIssuer(issuerURL, claims, opts.requestToken, opts.lifetime, logger)
	if err != nil {
		listener.Close()
		return err
	}

	server := &http.Server{Handler: is.handler(), ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- server.Serve(listener) }()
	logger.Info("issuer started", "issuer", issuerURL, "address", listener.Addr().String(), "actions_endpoint", opts.requestToken != "")

	// Write the URL only once the listener accepts connections, so that a
	// script polling for the file can use the issuer at once.
	if opts.urlFile != "" {
		if err := writeFileAtomic(opts.urlFile, []byte(issuerURL+"\n")); err != nil {
			server.Close()
			return err
		}
	}

	select {
	case err := <-serveErr:
		return fmt.Errorf("serving on %s: %w", listener.Addr(), err)
	case <-ctx.Done():
	}
	logger.Info("issuer stopping", "reason", context.Cause(ctx))
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := server.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	return nil
}

// writeFileAtomic writes data to a temporary file beside path and renames
// it into place, so that readers never see a partial file.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("writing %q: %w", path, err)
	}
	_, writeErr := tmp.Write(data)
	closeErr := tmp.Close()
	if err := errors.Join(writeErr, closeErr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing %q: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing %q: %w", path, err)
	}
	return nil
}
