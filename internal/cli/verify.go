package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/auditpack/auditpack/internal/attest"
	"github.com/auditpack/auditpack/internal/audit"
)

// verifyFlags holds the values of `auditpack verify` flags.
type verifyFlags struct {
	key       string
	artifacts []string
}

func (c *Command) verifyCommand() *cobra.Command {
	var f verifyFlags
	cmd := &cobra.Command{
		Use:   "verify PACK",
		Short: "Verify a pack directory or its .tar.gz archive",
		Long: `verify checks a pack: every file against index.json (and no unlisted
file), the signature of every attestation bundle, the signed list of pack
files against the files present, and each --artifact against the subjects of
the statements. It prints every check; the exit code is 0 when all pass, 1
when one fails, and 2 when verification cannot run.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.verify(cmd, args[0], f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.key, "key", "", "PEM public key the pack must be signed with (required)")
	fl.StringArrayVar(&f.artifacts, "artifact", nil, "model file or directory that must match a subject of the attestations; repeatable")
	return cmd
}

func (c *Command) verify(cmd *cobra.Command, packPath string, f verifyFlags) error {
	if f.key == "" {
		return usageError(errors.New("verify needs --key with the PEM public key that signed the pack"))
	}
	key, err := attest.LoadPublicKey(f.key)
	if err != nil {
		return usageError(err)
	}

	report, err := audit.Verify(cmd.Context(), packPath, audit.VerifyOptions{PublicKey: key, Artifacts: f.artifacts})
	if report != nil {
		audit.WriteReport(cmd.OutOrStdout(), report)
	}
	switch {
	case errors.Is(err, audit.ErrVerification):
		return &exitError{code: ExitFail, err: fmt.Errorf("%s did not verify", packPath)}
	case err != nil:
		return usageError(err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s verified\n", packPath)
	return nil
}
