package ingest

import (
	"crypto/sha256"
	"crypto/subtle"
)

// authDigest is the SHA-256 of a token_auth. Tokens are compared through
// their digests so the comparison takes the same time whatever the length
// or content of the token sent.
type authDigest [sha256.Size]byte

// authDigests hashes the configured tokens, dropping empty ones.
func authDigests(tokens []string) []authDigest {
	out := make([]authDigest, 0, len(tokens))
	for _, t := range tokens {
		if t != "" {
			out = append(out, sha256.Sum256([]byte(t)))
		}
	}
	return out
}

// authValid reports whether tok is one of the configured tokens. Every
// configured digest is compared, so the time taken does not tell which
// one matched.
func (h *Handler) authValid(tok string) bool {
	if tok == "" || len(h.tokens) == 0 {
		return false
	}
	d := sha256.Sum256([]byte(tok))
	ok := 0
	for i := range h.tokens {
		ok |= subtle.ConstantTimeCompare(d[:], h.tokens[i][:])
	}
	return ok == 1
}
