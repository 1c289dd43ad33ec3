package attest

import (
	"testing"

	"github.com/sigstore/sigstore-go/pkg/sign"
	"google.golang.org/protobuf/encoding/protojson"
)

// signRaw signs any payload as a DSSE bundle, bypassing Sign's statement
// check, to test what Verify does with signed payloads Sign never writes.
func signRaw(t *testing.T, keypair sign.Keypair, payloadType string, payload []byte) []byte {
	t.Helper()
	b, err := sign.Bundle(&sign.DSSEData{Data: payload, PayloadType: payloadType}, keypair, sign.BundleOptions{Context: t.Context()})
	if err != nil {
		t.Fatalf("sign.Bundle: %v", err)
	}
	out, err := protojson.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
