package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"time"
)

// maxOverrideBytes limits the JSON body of POST /token.
const maxOverrideBytes = 64 << 10

// Paths served by the issuer. jwksPath matches the path GitHub's issuer
// advertises in its discovery document.
const (
	discoveryPath    = "/.well-known/openid-configuration"
	jwksPath         = "/.well-known/jwks"
	tokenPath        = "/token"
	actionsTokenPath = "/actions/idtoken"
)

// issuer mints RS256 ID tokens that look like GitHub Actions job tokens.
type issuer struct {
	url      string
	key      *rsa.PrivateKey
	keyID    string
	claims   map[string]any
	lifetime time.Duration
	now      func() time.Time
	logger   *slog.Logger

	// requestToken is the bearer token the Actions token endpoint
	// requires. Empty disables that endpoint.
	requestToken string
}

// newIssuer generates a signing key and returns an issuer whose tokens
// carry iss=url and the given claims.
func newIssuer(url string, claims map[string]any, requestToken string, lifetime time.Duration, logger *slog.Logger) (*issuer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generating RSA signing key: %w", err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("encoding public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return &issuer{
		url:          strings.TrimSuffix(url, "/"),
		key:          key,
		keyID:        hex.EncodeToString(sum[:8]),
		claims:       claims,
		lifetime:     lifetime,
		now:          time.Now,
		logger:       logger,
		requestToken: requestToken,
	}, nil
}

// handler returns the issuer's HTTP routes.
func (is *issuer) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+discoveryPath, is.serveDiscovery)
	mux.HandleFunc("GET "+jwksPath, is.serveJWKS)
	mux.HandleFunc("GET "+tokenPath, is.serveToken)
	mux.HandleFunc("POST "+tokenPath, is.serveToken)
	mux.HandleFunc("GET "+actionsTokenPath, is.serveActionsToken)
	return mux
}

func (is *issuer) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	claimNames := []string{"aud", "exp", "iat", "iss", "jti", "nbf"}
	for name := range is.claims {
		claimNames = append(claimNames, name)
	}
	slices.Sort(claimNames)
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                is.url,
		"jwks_uri":                              is.url + jwksPath,
		"subject_types_supported":               []string{"public", "pairwise"},
		"response_types_supported":              []string{"id_token"},
		"claims_supported":                      claimNames,
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid"},
	})
}

func (is *issuer) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	pub := is.key.PublicKey
	writeJSON(w, http.StatusOK, map[string]any{
		"keys": []map[string]string{{
			"kty": "RSA",
			"alg": "RS256",
			"use": "sig",
			"kid": is.keyID,
			"n":   base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
			"e":   base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		}},
	})
}

// serveToken mints a token without authentication. GET uses the
// configured claims. POST takes a JSON object of claim overrides for this
// one token, in which null removes a claim.
func (is *issuer) serveToken(w http.ResponseWriter, r *http.Request) {
	var overrides map[string]any
	if r.Method == http.MethodPost {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxOverrideBytes+1))
		if err != nil {
			is.reject(w, r, http.StatusBadRequest, fmt.Sprintf("reading request body: %v", err))
			return
		}
		if len(body) > maxOverrideBytes {
			is.reject(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("claim overrides exceed %d bytes", maxOverrideBytes))
			return
		}
		overrides, err = decodeClaims(body)
		if err != nil {
			is.reject(w, r, http.StatusBadRequest, err.Error())
			return
		}
	}

	token, err := is.mint(r.URL.Query().Get("audience"), overrides)
	if err != nil {
		is.reject(w, r, http.StatusBadRequest, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/jwt")
	_, _ = io.WriteString(w, token)
}

// serveActionsToken implements the runner's token request protocol: the
// caller sends ACTIONS_ID_TOKEN_REQUEST_TOKEN as a bearer token, adds
// audience=AUD to ACTIONS_ID_TOKEN_REQUEST_URL, and receives
// {"value": "<jwt>"}.
func (is *issuer) serveActionsToken(w http.ResponseWriter, r *http.Request) {
	if is.requestToken == "" {
		is.reject(w, r, http.StatusNotFound, "the Actions token endpoint is disabled: start the issuer with -request-token")
		return
	}
	scheme, credential, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "bearer") || subtle.ConstantTimeCompare([]byte(credential), []byte(is.requestToken)) != 1 {
		is.reject(w, r, http.StatusUnauthorized, "missing or wrong bearer token: send Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN")
		return
	}

	token, err := is.mint(r.URL.Query().Get("audience"), nil)
	if err != nil {
		is.reject(w, r, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": 1, "value": token})
}

// mint signs a token for audience with the configured claims and
// overrides. An empty audience becomes https://github.com/OWNER, the
// default GitHub uses.
func (is *issuer) mint(audience string, overrides map[string]any) (string, error) {
	claims, err := mergeClaims(is.claims, overrides)
	if err != nil {
		return "", err
	}
	if audience == "" {
		owner, _ := claims["repository_owner"].(string)
		audience = "https://github.com/" + owner
	}

	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", fmt.Errorf("generating token id: %w", err)
	}
	now := is.now().Unix()
	claims["iss"] = is.url
	claims["aud"] = audience
	claims["iat"] = now
	claims["nbf"] = now
	claims["exp"] = now + int64(is.lifetime/time.Second)
	claims["jti"] = hex.EncodeToString(jti)

	token, err := is.sign(claims)
	if err != nil {
		return "", err
	}
	is.logger.Info("issued token", "sub", claims["sub"], "aud", audience, "jti", claims["jti"])
	return token, nil
}

// sign encodes claims as a compact JWS signed with RS256 (RFC 7515, 7518).
func (is *issuer) sign(claims map[string]any) (string, error) {
	header, err := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": is.keyID})
	if err != nil {
		return "", fmt.Errorf("encoding token header: %w", err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encoding token claims: %w", err)
	}

	signingInput := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	digest := sha256.Sum256([]byte(signingInput))
	signature, err := rsa.SignPKCS1v15(rand.Reader, is.key, crypto.SHA256, digest[:])
	if err != nil {
		return "", fmt.Errorf("signing token: %w", err)
	}
	return signingInput + "." + base64.RawURLEncoding.EncodeToString(signature), nil
}

// reject logs a refused request and sends the message as a JSON error.
func (is *issuer) reject(w http.ResponseWriter, r *http.Request, status int, message string) {
	is.logger.Warn("rejected request", "method", r.Method, "path", r.URL.Path, "status", status, "error", message, "remote", r.RemoteAddr)
	writeError(w, status, message)
}

func writeJSON(w http.ResponseWriter, status int, value any) {
	data, err := json.Marshal(value)
	if err != nil {
		http.Error(w, fmt.Sprintf("encoding response: %v", err), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

func writeError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]string{"error": message})
}
