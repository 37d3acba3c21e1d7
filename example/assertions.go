package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	"github.com/echo-oauth2/oauth2server"
)

// fileIssuer is a trusted issuer in the -config file: an issuer whose JWTs
// clients exchange for access tokens with the JWT bearer grant (RFC 7523
// §2.1), with its keys (jwks or jwks_uri) and the local username each of
// its subjects stands for.
type fileIssuer struct {
	Issuer   string            `json:"issuer"`
	JWKS     json.RawMessage   `json:"jwks,omitempty"`
	JWKSURI  string            `json:"jwks_uri,omitempty"`
	Scopes   []string          `json:"scopes,omitempty"`
	Subjects map[string]string `json:"subjects"`
}

// checkAuthMethod accepts the methods a client of the file may register:
// a secret (client_secret_basic or client_secret_post, or either when
// empty), none for public clients, or private_key_jwt with exactly one of
// jwks and jwks_uri. client_secret_jwt would need the secret stored in
// usable form, which the example does not do.
func (c *fileClient) checkAuthMethod() error {
	keys := len(c.JWKS) > 0 || c.JWKSURI != ""
	switch c.TokenEndpointAuthMethod {
	case "", oauth2server.AuthMethodClientSecretBasic, oauth2server.AuthMethodClientSecretPost:
		if keys {
			return errors.New("jwks and jwks_uri are for token_endpoint_auth_method private_key_jwt")
		}
	case oauth2server.AuthMethodNone:
		if !c.Public {
			return errors.New(`token_endpoint_auth_method "none" is for public clients`)
		}
	case oauth2server.AuthMethodPrivateKeyJWT:
		if c.Public || c.Secret != "" {
			return errors.New("a private_key_jwt client has no secret and is not public")
		}
		return checkKeys(c.JWKS, c.JWKSURI)
	default:
		return fmt.Errorf("token_endpoint_auth_method %q is not one of client_secret_basic, client_secret_post, private_key_jwt, none",
			c.TokenEndpointAuthMethod)
	}
	return nil
}

// checkKeys accepts exactly one of an inline JWK Set and an https
// jwks_uri.
func checkKeys(jwks json.RawMessage, jwksURI string) error {
	switch {
	case len(jwks) > 0 && jwksURI != "":
		return errors.New("set jwks or jwks_uri, not both")
	case len(jwks) > 0:
		var set struct {
			Keys []json.RawMessage `json:"keys"`
		}
		if err := json.Unmarshal(jwks, &set); err != nil || len(set.Keys) == 0 {
			return errors.New(`jwks must be a JWK Set: {"keys": [...]}`)
		}
	case jwksURI != "":
		if u, err := url.Parse(jwksURI); err != nil || u.Scheme != "https" || u.Host == "" {
			return fmt.Errorf("jwks_uri %q must be an https URL", jwksURI)
		}
	default:
		return errors.New("private_key_jwt needs jwks or jwks_uri")
	}
	return nil
}

// checkIssuers checks the trusted issuers of the file: an identifier, one
// key source, subjects that name users of the file.
func checkIssuers(issuers []fileIssuer, usernames map[string]bool) error {
	seen := make(map[string]bool, len(issuers))
	for i, ti := range issuers {
		if ti.Issuer == "" {
			return fmt.Errorf("trusted_issuers[%d]: issuer is required", i)
		}
		if seen[ti.Issuer] {
			return fmt.Errorf("trusted issuer %q: duplicate", ti.Issuer)
		}
		seen[ti.Issuer] = true
		if err := checkKeys(ti.JWKS, ti.JWKSURI); err != nil {
			return fmt.Errorf("trusted issuer %q: %w", ti.Issuer, err)
		}
		for sub, name := range ti.Subjects {
			if !usernames[name] {
				return fmt.Errorf("trusted issuer %q: subject %q names no user of the file (%q)", ti.Issuer, sub, name)
			}
		}
	}
	return nil
}

// issuerStore is what both models offer to register trusted issuers.
type issuerStore interface {
	AddTrustedIssuer(ctx context.Context, ti *oauth2server.TrustedIssuer) error
	MapIssuerSubject(ctx context.Context, issuer, subject, username string) error
}

// seedIssuers registers the trusted issuers of the file and their
// subjects; registering one again replaces it.
func seedIssuers(ctx context.Context, model any, data *fileConfig) error {
	if len(data.TrustedIssuers) == 0 {
		return nil
	}
	m, ok := model.(issuerStore)
	if !ok {
		return errors.New("the model cannot store trusted issuers")
	}
	for _, ti := range data.TrustedIssuers {
		if err := m.AddTrustedIssuer(ctx, &oauth2server.TrustedIssuer{Issuer: ti.Issuer, JWKS: string(ti.JWKS),
			JWKSURI: ti.JWKSURI, Scopes: ti.Scopes}); err != nil {
			return fmt.Errorf("trusted issuer %q: %w", ti.Issuer, err)
		}
		for sub, name := range ti.Subjects {
			if err := m.MapIssuerSubject(ctx, ti.Issuer, sub, name); err != nil {
				return fmt.Errorf("trusted issuer %q: %w", ti.Issuer, err)
			}
		}
	}
	return nil
}
