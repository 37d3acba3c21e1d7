package oauth2server

// Test data of both the internal tests and the external ones (package
// oauth2server_test), which see it as exported identifiers of this
// package: declared here once.

// RFC7636Verifier and RFC7636Challenge are the S256 example of RFC 7636
// Appendix B.
const (
	RFC7636Verifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	RFC7636Challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
)
