package oauth2server

import (
	"context"
	stderrors "errors"
	"slices"

	"github.com/golang-jwt/jwt/v5"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

var (
	errAssertionType     = oerrors.ErrInvalidClient.WithDescription("The client_assertion_type is not supported.")
	errAssertionMissing  = oerrors.ErrInvalidClient.WithDescription("client_assertion and client_assertion_type must be sent together.")
	errAssertionIssuer   = oerrors.ErrInvalidClient.WithDescription("The client assertion has no iss claim.")
	errAssertionClientID = oerrors.ErrInvalidClient.WithDescription("The client_id parameter does not match the client assertion's iss.")
	errAssertionSubject  = oerrors.ErrInvalidClient.WithDescription("The client assertion's iss and sub must both be the client_id.")
	errAssertionJTI      = oerrors.ErrInvalidClient.WithDescription("The client assertion has no jti, or a jti longer than 256 bytes.")
	errAssertionReplay   = oerrors.ErrInvalidClient.WithDescription("The client assertion was used before (its jti is spent).")
	errAssertionAlg      = oerrors.ErrInvalidClient.WithDescription("The client assertion's algorithm is not allowed for this client.")
	errAssertionKey      = oerrors.ErrInvalidClient.WithDescription("No registered key of the client matches the client assertion's kid and alg.")
)

// clientAssertionAlgs is the allow-list of every client assertion: the
// union of both methods. [Server.clientAssertionKey] narrows it to the
// client's method, and its pinned algorithm, before any signature is
// checked.
var clientAssertionAlgs = slices.Concat(asymmetricAlgs, hmacAlgs)

// authenticateAssertion authenticates a client by a JWT assertion (RFC
// 7523 §2.2, §3; RFC 7521 §4.2; OIDC Core §9): the caller has made sure it
// is the request's only method. Every failure is invalid_client,
// answered 401 with WWW-Authenticate.
func (s *Server) authenticateAssertion(ctx context.Context, p map[string]string) (client *Client, err error) {
	claimed := p["client_id"]
	defer func() {
		if err != nil && oerrors.From(err).Code == oerrors.ErrInvalidClient.Code {
			s.Record(ctx, Event{Kind: EventClientAuthFailed, ClientID: claimed, Reason: oerrors.ErrInvalidClient.Code})
		}
	}()
	typ, raw := p["client_assertion_type"], p["client_assertion"]
	switch {
	case typ == "" || raw == "":
		return nil, errAssertionMissing
	case typ != ClientAssertionTypeJWTBearer:
		return nil, errAssertionType
	}
	check := &assertionCheck{
		fail:        oerrors.ErrInvalidClient,
		what:        "client assertion",
		parser:      s.assert.clientParser,
		typ:         typAssertion(true),
		audiences:   s.ourAudiences(s.assert.opts.StrictAudience),
		strict:      s.assert.opts.StrictAudience,
		maxLifetime: s.assert.opts.MaxLifetime,
		key: func(t *jwt.Token, c *assertionClaims) (any, error) {
			// iss names the client whose key verifies the assertion; no
			// other claim is read before the signature is checked.
			switch {
			case c.Issuer == "":
				return nil, errAssertionIssuer
			case claimed != "" && claimed != c.Issuer:
				return nil, errAssertionClientID
			}
			if claimed == "" {
				claimed = c.Issuer
			}
			var err error
			if client, err = s.model.GetClient(ctx, c.Issuer); err != nil {
				return nil, storeError("GetClient", err)
			}
			if client == nil {
				return nil, errClientAuth
			}
			return s.clientAssertionKey(ctx, client, t)
		},
	}
	claims, err := s.parseAssertion(raw, check)
	if err != nil {
		return nil, err
	}
	// iss = sub = client_id.
	if claims.Issuer != client.ID || claims.Subject != client.ID {
		return nil, errAssertionSubject
	}
	if claims.ID == "" || len(claims.ID) > maxJTIBytes {
		return nil, errAssertionJTI
	}
	// single use until it expires, in the shared store.
	first, err := s.jtiClaim(ctx, "client-assertion", client.ID, claims.ID, claims.Expiry.Time)
	if err != nil {
		return nil, err
	}
	if !first {
		return nil, errAssertionReplay
	}
	return client, nil
}

// clientAssertionKey returns the key that verifies client's assertion
// with the header's algorithm: a key of its JWK Set for private_key_jwt
// (an asymmetric algorithm, the key's own), its secret for
// client_secret_jwt (HMAC only). A client registered for another method
// cannot authenticate by assertion.
func (s *Server) clientAssertionKey(ctx context.Context, client *Client, t *jwt.Token) (any, error) {
	alg := t.Method.Alg()
	pinned := client.TokenEndpointAuthSigningAlg
	if pinned != "" && alg != pinned {
		return nil, errAssertionAlg
	}
	switch client.TokenEndpointAuthMethod {
	case AuthMethodPrivateKeyJWT:
		if !slices.Contains(asymmetricAlgs, alg) {
			return nil, errAssertionAlg
		}
		kid, _ := t.Header["kid"].(string)
		ks, err := s.keySetOf(ctx, client.JWKS, client.JWKSURI, pinned, kid)
		if err != nil {
			return nil, errAssertionKey.WithCause(err)
		}
		k, ok := ks.find(kid, alg)
		if !ok {
			return nil, errAssertionKey
		}
		return k.key, nil
	case AuthMethodClientSecretJWT:
		if !slices.Contains(hmacAlgs, alg) {
			return nil, errAssertionAlg
		}
		if s.assert.secrets == nil {
			return nil, errClientAuth.WithCause(stderrors.New("client_secret_jwt needs ClientSecretModel"))
		}
		secret, err := s.assert.secrets.GetClientSecret(ctx, client)
		if err != nil {
			return nil, storeError("GetClientSecret", err)
		}
		// RFC 7518 §3.2: a key at least as long as the hash output.
		if len(secret) < hmacKeyBytes(alg) {
			return nil, errClientAuth.WithCause(stderrors.New("client secret too short for " + alg))
		}
		return secret, nil
	}
	return nil, errClientAuth.WithCause(stderrors.New("client not registered for an assertion method"))
}

// hmacKeyBytes is the least key size of an HMAC algorithm (RFC 7518 §3.2).
func hmacKeyBytes(alg string) int {
	switch alg {
	case "HS384":
		return 48
	case "HS512":
		return 64
	}
	return 32
}

// keySetOf returns the key set registered inline (jwks) or at jwksURI,
// exactly one of which must be set.
func (s *Server) keySetOf(ctx context.Context, jwks, jwksURI, pinned, kid string) (*keySet, error) {
	switch {
	case jwks != "" && jwksURI != "":
		return nil, stderrors.New("both jwks and jwks_uri are registered")
	case jwks != "":
		return s.assert.inline.get(jwks, pinned)
	case jwksURI != "":
		return s.assert.remote.keys(ctx, jwksURI, kid, pinned)
	}
	return nil, stderrors.New("no jwks or jwks_uri is registered")
}

// addAssertionMetadata lists the assertion methods and their algorithms
// at every endpoint that authenticates clients (RFC 8414 §2):
// private_key_jwt always, client_secret_jwt when the model can hand out
// secrets ([ClientSecretModel]).
func (s *Server) addAssertionMetadata(m *Metadata) {
	methods := []string{AuthMethodPrivateKeyJWT}
	algs := asymmetricAlgs
	if s.assert.secrets != nil {
		methods = append(methods, AuthMethodClientSecretJWT)
		algs = clientAssertionAlgs
	}
	add := func(list *[]string, algList *[]string) {
		if *list == nil {
			return // the endpoint is not mounted
		}
		// Before "none", which is not a way to authenticate.
		i := slices.Index(*list, AuthMethodNone)
		if i < 0 {
			i = len(*list)
		}
		*list = slices.Insert(*list, i, methods...)
		*algList = slices.Clone(algs)
	}
	add(&m.TokenEndpointAuthMethodsSupported, &m.TokenEndpointAuthSigningAlgValuesSupported)
	add(&m.RevocationEndpointAuthMethodsSupported, &m.RevocationEndpointAuthSigningAlgValuesSupported)
	add(&m.IntrospectionEndpointAuthMethodsSupported, &m.IntrospectionEndpointAuthSigningAlgValuesSupported)
}
