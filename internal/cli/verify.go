package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/auditpack/auditpack/internal/attest"
	"github.com/auditpack/auditpack/internal/audit"
	"github.com/auditpack/auditpack/internal/policy"
	"github.com/auditpack/auditpack/policies"
)

// signerFlags holds the flags that name who must have signed a pack: a
// public key, or a keyless signer and the trust in it. verify and lineage
// verify share them.
type signerFlags struct {
	key string

	identity       string
	identityRegexp string
	issuer         string
	issuerRegexp   string
	repository     string
	ref            string
	sha            string
	trustedRoot    string
	tlogThreshold  int
	tsaThreshold   int
}

// verifyFlags holds the values of `auditpack verify` flags.
type verifyFlags struct {
	signerFlags
	artifacts []string

	types    []string
	policies []string
	output   string
}

// predicateAliases are the short names --type accepts for the predicate
// types auditpack writes.
var predicateAliases = map[string]string{
	"evaluation":     attest.PredicateEvaluation,
	"test-result":    attest.PredicateTestResult,
	"slsaprovenance": attest.PredicateSLSAProvenance,
	"cyclonedx":      audit.PredicateCycloneDX,
}

func (c *Command) verifyCommand() *cobra.Command {
	var f verifyFlags
	cmd := &cobra.Command{
		Use:   "verify PACK|BUNDLE",
		Short: "Verify a pack directory, its .tar.gz archive, or one Sigstore bundle",
		Long: `verify checks a pack: every file against index.json (and no unlisted
file); the evaluation statement, which anchors the pack, present and
verified; every other file named by it, the documents with their signed
digests and the attestation files with their predicate types; every other
bundle verified and about the same subjects (a model signature: the files
of the model artifact the signed lineage records); and each --artifact
matching a subject. Given a single .json bundle instead (for example one cosign
made), it checks that bundle's signature, identity, type and subjects.

Key-signed packs verify with --key. Keyless packs verify with the expected
signer: --certificate-identity (or --certificate-identity-regexp, matched
against the whole identity) and --certificate-oidc-issuer, optionally the
GitHub claims, against the public-good trusted root or --trusted-root.

It prints every check; the exit code is 0 when all pass, 1 when one fails
(a malformed or unsafe pack included), and 2 for bad usage: bad flags, a
path that does not exist, an unreadable key or file.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.verify(cmd, args[0], f)
		},
	}
	fl := cmd.Flags()
	f.signerFlags.register(cmd)
	fl.StringArrayVar(&f.artifacts, "artifact", nil, "model file or directory that must match a subject of the attestations; repeatable")
	fl.StringArrayVar(&f.types, "type", nil, "predicate type URI (or evaluation, test-result, slsaprovenance, cyclonedx) of which a verified statement must exist; repeatable")
	fl.StringArrayVar(&f.policies, "policy", nil, "policy file (or builtin:NAME) to evaluate against the signed metrics; a failed blocking rule fails verification; repeatable")
	fl.StringVar(&f.output, "output", "text", "report format: text or json")
	return cmd
}

// register adds the signer flags to cmd.
func (f *signerFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.key, "key", "", "PEM public key a key-signed pack must be signed with")
	fl.StringVar(&f.identity, "certificate-identity", "", "keyless: the signer's exact identity (certificate SAN), such as https://github.com/OWNER/REPO/.github/workflows/FILE@REF")
	fl.StringVar(&f.identityRegexp, "certificate-identity-regexp", "", "keyless: regular expression (Go syntax) the whole identity must match")
	fl.StringVar(&f.issuer, "certificate-oidc-issuer", "", "keyless: the exact OIDC issuer, such as https://token.actions.githubusercontent.com")
	fl.StringVar(&f.issuerRegexp, "certificate-oidc-issuer-regexp", "", "keyless: regular expression the whole OIDC issuer must match")
	fl.StringVar(&f.repository, "certificate-github-workflow-repository", "", "keyless: the GitHub repository (owner/name) the workflow ran in")
	fl.StringVar(&f.ref, "certificate-github-workflow-ref", "", "keyless: the git ref the workflow ran on, such as refs/tags/v1.0.0")
	fl.StringVar(&f.sha, "certificate-github-workflow-sha", "", "keyless: the commit SHA the workflow ran on")
	fl.StringVar(&f.trustedRoot, "trusted-root", "", "keyless: trusted_root.json for a private or offline deployment (default: the public-good root through TUF)")
	fl.IntVar(&f.tlogThreshold, "tlog-threshold", 1, "keyless: minimum number of verified transparency log entries per bundle")
	fl.IntVar(&f.tsaThreshold, "timestamp-threshold", 0, "keyless: minimum number of verified RFC 3161 timestamps per bundle")
}

// keylessFlagsSet reports whether any keyless flag was given.
func (f signerFlags) keylessFlagsSet() bool {
	return f.identity != "" || f.identityRegexp != "" || f.issuer != "" || f.issuerRegexp != "" ||
		f.repository != "" || f.ref != "" || f.sha != "" || f.trustedRoot != ""
}

// verifyOptions turns the flags into verification options. Its errors are
// usage errors.
func (c *Command) verifyOptions(cmd *cobra.Command, f verifyFlags) (audit.VerifyOptions, error) {
	opts := audit.VerifyOptions{Artifacts: f.artifacts}
	if f.output != "text" && f.output != "json" {
		return opts, fmt.Errorf("--output must be text or json, got %q", f.output)
	}
	for _, t := range f.types {
		if full, ok := predicateAliases[t]; ok {
			t = full
		}
		opts.PredicateTypes = append(opts.PredicateTypes, t)
	}
	if len(f.policies) > 0 {
		files, err := policy.Load(f.policies, func(p string) string { return p }, policies.FS)
		if err != nil {
			return opts, err
		}
		opts.Policies = files
	}

	if err := f.signerFlags.apply(cmd, &opts, "verify"); err != nil {
		return opts, err
	}
	return opts, nil
}

// apply sets the key, or the keyless identity and trusted root, of opts
// from the flags. Its errors are usage errors; command names the command
// in them.
func (f signerFlags) apply(cmd *cobra.Command, opts *audit.VerifyOptions, command string) error {
	switch {
	case f.key != "" && f.keylessFlagsSet():
		return errors.New("--key verifies key-signed packs and the --certificate-* and --trusted-root flags keyless ones; give one kind")
	case f.key != "":
		key, err := attest.LoadPublicKey(f.key)
		if err != nil {
			return err
		}
		opts.PublicKey = key
		return nil
	case !f.keylessFlagsSet():
		return fmt.Errorf("%s needs --key with the PEM public key that signed the pack, or, for a keyless pack, --certificate-identity (or --certificate-identity-regexp) and --certificate-oidc-issuer", command)
	}

	opts.Identity = attest.Identity{
		SubjectAlternativeName:       f.identity,
		SubjectAlternativeNameRegexp: f.identityRegexp,
		Issuer:                       f.issuer,
		IssuerRegexp:                 f.issuerRegexp,
		GitHubRepository:             f.repository,
		GitHubRef:                    f.ref,
		GitHubSHA:                    f.sha,
	}
	if err := opts.Identity.Validate(); err != nil {
		return err
	}
	opts.TransparencyLogThreshold, opts.TimestampThreshold = f.tlogThreshold, f.tsaThreshold
	trusted, err := audit.LoadTrustedRoot(cmd.Context(), f.trustedRoot)
	if err != nil {
		return err
	}
	opts.TrustedMaterial = trusted
	return nil
}

func (c *Command) verify(cmd *cobra.Command, target string, f verifyFlags) error {
	opts, err := c.verifyOptions(cmd, f)
	if err != nil {
		return usageError(err)
	}

	// A regular file that is not an archive is a single bundle.
	verifyFn := audit.Verify
	if info, statErr := os.Stat(target); statErr == nil && info.Mode().IsRegular() && !strings.HasSuffix(target, ".tar.gz") && !strings.HasSuffix(target, ".tgz") {
		verifyFn = audit.VerifyBundle
	}
	report, err := verifyFn(cmd.Context(), target, opts)

	out := cmd.OutOrStdout()
	if f.output == "json" {
		if report == nil {
			report = &audit.Report{Pack: target}
		}
		doc := struct {
			Pack   string        `json:"pack"`
			OK     bool          `json:"ok"`
			Error  string        `json:"error,omitempty"`
			Checks []audit.Check `json:"checks"`
		}{Pack: report.Pack, OK: err == nil && report.OK(), Checks: report.Checks}
		if doc.Checks == nil {
			doc.Checks = []audit.Check{}
		}
		if err != nil && !errors.Is(err, audit.ErrVerification) {
			doc.Error = err.Error()
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if encErr := enc.Encode(doc); encErr != nil {
			return usageError(encErr)
		}
	} else if report != nil {
		audit.WriteReport(out, report)
	}

	switch {
	case errors.Is(err, audit.ErrVerification):
		return &exitError{code: ExitFail, err: fmt.Errorf("%s did not verify", target)}
	case err != nil:
		return usageError(err)
	}
	if f.output != "json" {
		fmt.Fprintf(out, "%s verified\n", target)
	}
	return nil
}
