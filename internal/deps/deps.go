package deps

import (
	_ "github.com/CycloneDX/cyclonedx-go"
	_ "github.com/github/go-spdx/v2/spdxexp"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/google/go-github/v60/github"
	_ "github.com/in-toto/attestation/go/v1"
	_ "github.com/in-toto/in-toto-golang/in_toto"
	_ "github.com/santhosh-tekuri/jsonschema/v6"
	_ "github.com/sethvargo/go-githubactions"
	_ "github.com/sigstore/sigstore-go/pkg/sign"
	_ "github.com/sigstore/sigstore-go/pkg/testing/ca"
	_ "github.com/sigstore/sigstore-go/pkg/verify"
	_ "gopkg.in/yaml.v3"
)
