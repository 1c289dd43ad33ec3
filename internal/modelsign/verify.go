package modelsign

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/json"
	"errors"
	"fmt"
	"hash"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/auditpack/auditpack/internal/attest"
)

// ErrSignature marks a bundle whose signature does not verify with the
// given key, or that is not a key-signed model signature.
var ErrSignature = errors.New("model signature does not verify")

// Verify checks a key-signed model signature bundle the way model_signing's
// key verifier does, and returns the signed manifest:
//
//  1. the bundle's public key hint, when present, equals PublicKeyHint(key);
//  2. the single DSSE signature verifies with key (ECDSA with SHA-256,
//     SHA-384 or SHA-512 for P-256, P-384 and P-521) over the
//     pre-authentication encoding of the payload;
//  3. the payload type is application/vnd.in-toto+json, the statement type
//     in-toto v1 and the predicate type PredicateType;
//  4. there is exactly one subject, and its sha256 equals the digest over
//     the listed resources' digests.
//
// The caller then compares the manifest with the model at hand (Compare).
func Verify(bundleJSON []byte, key *ecdsa.PublicKey) (Manifest, error) {
	var b protobundle.Bundle
	if err := protojson.Unmarshal(bundleJSON, &b); err != nil {
		return Manifest{}, fmt.Errorf("%w: reading the Sigstore bundle: %v", ErrSignature, err)
	}

	// 1. The key hint.
	want, err := PublicKeyHint(key)
	if err != nil {
		return Manifest{}, err
	}
	if pk := b.GetVerificationMaterial().GetPublicKey(); pk == nil {
		return Manifest{}, fmt.Errorf("%w: the bundle is not signed with a key", ErrSignature)
	} else if pk.GetHint() != "" && pk.GetHint() != want {
		return Manifest{}, fmt.Errorf("%w: the bundle names key %s, the given key is %s", ErrSignature, pk.GetHint(), want)
	}

	// 2. The DSSE signature.
	env := b.GetDsseEnvelope()
	if env == nil || len(env.GetSignatures()) != 1 {
		return Manifest{}, fmt.Errorf("%w: the bundle must hold a DSSE envelope with one signature", ErrSignature)
	}
	h, err := curveHash(key)
	if err != nil {
		return Manifest{}, err
	}
	pae := fmt.Appendf(nil, "DSSEv1 %d %s %d ", len(env.GetPayloadType()), env.GetPayloadType(), len(env.GetPayload()))
	pae = append(pae, env.GetPayload()...)
	h.Write(pae)
	if !ecdsa.VerifyASN1(key, h.Sum(nil), env.GetSignatures()[0].GetSig()) {
		return Manifest{}, fmt.Errorf("%w: the signature does not verify with the given key", ErrSignature)
	}

	// 3. Payload, statement and predicate types.
	if env.GetPayloadType() != attest.PayloadType {
		return Manifest{}, fmt.Errorf("%w: payload type %q, want %q", ErrSignature, env.GetPayloadType(), attest.PayloadType)
	}
	return ParseStatement(env.GetPayload())
}

// ParseStatement reads a model signing statement and checks steps 3 and 4
// of [Verify].
func ParseStatement(payload []byte) (Manifest, error) {
	var st struct {
		Type          string `json:"_type"`
		PredicateType string `json:"predicateType"`
		Subject       []struct {
			Name   string            `json:"name"`
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
		Predicate Predicate `json:"predicate"`
	}
	if err := json.Unmarshal(payload, &st); err != nil {
		return Manifest{}, fmt.Errorf("%w: reading the statement: %v", ErrManifest, err)
	}
	if st.Type != attest.StatementType {
		return Manifest{}, fmt.Errorf("%w: statement type %q, want %q", ErrManifest, st.Type, attest.StatementType)
	}
	if st.PredicateType != PredicateType {
		return Manifest{}, fmt.Errorf("%w: predicate type %q, want %q", ErrManifest, st.PredicateType, PredicateType)
	}
	if len(st.Subject) != 1 {
		return Manifest{}, fmt.Errorf("%w: %d subjects, want exactly 1", ErrManifest, len(st.Subject))
	}

	// 4. The subject digest covers the resources.
	root, err := RootDigest(st.Predicate.Resources)
	if err != nil {
		return Manifest{}, err
	}
	if got := st.Subject[0].Digest["sha256"]; got != root {
		return Manifest{}, fmt.Errorf("%w: the subject digest is %s but the resources hash to %s", ErrManifest, got, root)
	}
	return Manifest{ModelName: st.Subject[0].Name, Predicate: st.Predicate}, nil
}

func curveHash(key *ecdsa.PublicKey) (hash.Hash, error) {
	switch key.Curve.Params().BitSize {
	case 256:
		return sha256.New(), nil
	case 384:
		return sha512.New384(), nil
	case 521:
		return sha512.New(), nil
	}
	return nil, fmt.Errorf("unsupported ECDSA curve %s", key.Curve.Params().Name)
}
