package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/auditpack/auditpack/internal/attest"
	"github.com/auditpack/auditpack/internal/lineage"
)

// BuildTypeRun is the SLSA buildType of a pack made by `auditpack run`:
// its externalParameters and internalParameters are documented in
// docs/attestations.md.
const BuildTypeRun = "https://auditpack.dev/buildtypes/run/v1"

// LocalBuilderID is the SLSA builder id of a run outside GitHub Actions.
const LocalBuilderID = "https://auditpack.dev/builders/local/v1"

// BuildContext describes the CI run that makes a pack. The fields follow
// the GitHub Actions variables of the same meaning; empty fields are left
// out of the provenance.
type BuildContext struct {
	// ServerURL is GITHUB_SERVER_URL, such as https://github.com.
	ServerURL string
	// Repository is GITHUB_REPOSITORY, "owner/name".
	Repository string
	// WorkflowRef is GITHUB_WORKFLOW_REF,
	// "owner/name/.github/workflows/file.yml@ref".
	WorkflowRef string
	// SHA and Ref are GITHUB_SHA and GITHUB_REF: the commit and ref built.
	SHA string
	Ref string
	// EventName is GITHUB_EVENT_NAME, such as push or release.
	EventName string
	// RunID and RunAttempt are GITHUB_RUN_ID and GITHUB_RUN_ATTEMPT.
	RunID      string
	RunAttempt string
	// RunnerEnvironment is RUNNER_ENVIRONMENT: github-hosted or
	// self-hosted.
	RunnerEnvironment string
}

// Provenance is the SLSA provenance v1 predicate
// (https://slsa.dev/spec/v1.0/provenance) of a pack.
type Provenance struct {
	BuildDefinition BuildDefinition `json:"buildDefinition"`
	RunDetails      RunDetails      `json:"runDetails"`
}

// BuildDefinition is the SLSA buildDefinition.
type BuildDefinition struct {
	BuildType            string               `json:"buildType"`
	ExternalParameters   map[string]any       `json:"externalParameters"`
	InternalParameters   map[string]any       `json:"internalParameters,omitempty"`
	ResolvedDependencies []ResourceDescriptor `json:"resolvedDependencies,omitempty"`
}

// RunDetails is the SLSA runDetails.
type RunDetails struct {
	Builder    Builder              `json:"builder"`
	Metadata   *BuildMetadata       `json:"metadata,omitempty"`
	Byproducts []ResourceDescriptor `json:"byproducts,omitempty"`
}

// Builder identifies the build platform.
type Builder struct {
	ID string `json:"id"`
}

// BuildMetadata identifies the run. Start and finish times are left out,
// so that a key-signed pack stays reproducible.
type BuildMetadata struct {
	InvocationID string `json:"invocationId,omitempty"`
}

// ResourceDescriptor is an in-toto resource descriptor
// (https://github.com/in-toto/attestation/blob/main/spec/v1/resource_descriptor.md).
type ResourceDescriptor struct {
	Name   string            `json:"name,omitempty"`
	URI    string            `json:"uri,omitempty"`
	Digest map[string]string `json:"digest,omitempty"`
}

// provenanceStatement describes how the pack was built: by which builder
// and run, from which repository and commit, with which configuration and
// policy files, and the pack documents it produced.
func (b *build) provenanceStatement() (statement, error) {
	configDigest, err := fileSHA256(b.cfg.Path)
	if err != nil {
		return statement{}, err
	}
	// The configuration is named by its path in the repository, else by
	// its file name, so that the statement does not depend on the
	// directory run started in.
	configName := lineage.RepositoryPath(b.cfg.Path)
	if configName == "" {
		configName = filepath.Base(b.cfg.Path)
	}

	external := map[string]any{"config": configName}
	var policyRefs []string
	deps := []ResourceDescriptor{{Name: configName, Digest: map[string]string{"sha256": configDigest}}}
	for _, p := range b.verdict.Policies {
		policyRefs = append(policyRefs, p.Path)
		deps = append(deps, ResourceDescriptor{Name: p.Path, Digest: map[string]string{"sha256": p.SHA256}})
	}
	external["policies"] = policyRefs

	if source := b.sourceDependency(); source != nil {
		deps = append([]ResourceDescriptor{*source}, deps...)
	}

	pred := Provenance{
		BuildDefinition: BuildDefinition{
			BuildType:            BuildTypeRun,
			ExternalParameters:   external,
			InternalParameters:   map[string]any{"toolVersion": b.opts.ToolVersion, "signing": string(b.opts.Sign)},
			ResolvedDependencies: deps,
		},
		RunDetails: RunDetails{Builder: Builder{ID: LocalBuilderID}},
	}

	if bc := b.opts.Build; bc != nil && bc.Repository != "" {
		server := strings.TrimSuffix(firstNonEmpty(bc.ServerURL, "https://github.com"), "/")
		workflow := map[string]any{"repository": server + "/" + bc.Repository}
		if bc.WorkflowRef != "" {
			pred.RunDetails.Builder.ID = server + "/" + bc.WorkflowRef
			if file, ref, ok := strings.Cut(strings.TrimPrefix(bc.WorkflowRef, bc.Repository+"/"), "@"); ok {
				workflow["path"], workflow["ref"] = file, ref
			}
		}
		if bc.EventName != "" {
			workflow["event"] = bc.EventName
		}
		external["workflow"] = workflow
		if bc.RunnerEnvironment != "" {
			pred.BuildDefinition.InternalParameters["runnerEnvironment"] = bc.RunnerEnvironment
		}
		if bc.RunID != "" {
			id := fmt.Sprintf("%s/%s/actions/runs/%s", server, bc.Repository, bc.RunID)
			if bc.RunAttempt != "" {
				id += "/attempts/" + bc.RunAttempt
			}
			pred.RunDetails.Metadata = &BuildMetadata{InvocationID: id}
		}
	}

	for _, name := range sortedKeys(b.files) {
		if path.Dir(name) == DirAttestations {
			continue
		}
		sum := sha256.Sum256(b.files[name])
		pred.RunDetails.Byproducts = append(pred.RunDetails.Byproducts, ResourceDescriptor{Name: name, Digest: map[string]string{"sha256": hex.EncodeToString(sum[:])}})
	}
	return statement{name: "provenance", predicateType: attest.PredicateSLSAProvenance, predicate: pred}, nil
}

// sourceDependency returns the source repository at the commit built: from
// the CI run when known, else from the local repository; nil when neither
// is known.
func (b *build) sourceDependency() *ResourceDescriptor {
	if bc := b.opts.Build; bc != nil && bc.Repository != "" && bc.SHA != "" {
		server := strings.TrimSuffix(firstNonEmpty(bc.ServerURL, "https://github.com"), "/")
		uri := "git+" + server + "/" + bc.Repository
		if bc.Ref != "" {
			uri += "@" + bc.Ref
		}
		return &ResourceDescriptor{URI: uri, Digest: map[string]string{"gitCommit": bc.SHA}}
	}
	repo := b.lin.Repository
	if repo == nil || repo.Commit == "" {
		return nil
	}
	d := &ResourceDescriptor{Name: "source", Digest: map[string]string{"gitCommit": repo.Commit}}
	if repo.Remote != "" {
		d.URI = "git+" + repo.Remote
	}
	return d
}

func fileSHA256(name string) (string, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return "", fmt.Errorf("reading %s for the provenance: %w", name, err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
