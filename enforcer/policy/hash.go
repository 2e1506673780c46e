package policy

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/gowebpki/jcs"
)

// canonicalPolicy returns the RFC 8785 JSON of a generic policy document
// with metadata.signature removed.
func canonicalPolicy(generic any) ([]byte, error) {
	if m, ok := generic.(map[string]any); ok {
		if md, ok := m["metadata"].(map[string]any); ok {
			if _, signed := md["signature"]; signed {
				copyMD := make(map[string]any, len(md))
				for k, v := range md {
					if k != "signature" {
						copyMD[k] = v
					}
				}
				copyM := make(map[string]any, len(m))
				for k, v := range m {
					copyM[k] = v
				}
				copyM["metadata"] = copyMD
				generic = copyM
			}
		}
	}
	return canonicalJSON(generic)
}

func canonicalJSON(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode json: %w", err)
	}
	out, err := jcs.Transform(raw)
	if err != nil {
		return nil, fmt.Errorf("canonical json: %w", err)
	}
	return out, nil
}

// Sign returns the metadata.signature value for doc: "ed25519:" and the
// base64 ed25519 signature of doc.Canonical(). The key never leaves the
// caller; nothing is logged.
func Sign(doc *Document, key ed25519.PrivateKey) string {
	return "ed25519:" + base64.StdEncoding.EncodeToString(ed25519.Sign(key, doc.canonical))
}

// VerifySignature checks doc's metadata.signature against key. A missing or
// wrong signature is ErrSignatureInvalid.
func VerifySignature(doc *Document, key ed25519.PublicKey) error {
	if len(key) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: trusted key is not an ed25519 public key", ErrSignatureInvalid)
	}
	if doc.Metadata.Signature == "" {
		return fmt.Errorf("%w: policy %q is not signed (metadata.signature missing)", ErrSignatureInvalid, doc.Metadata.Name)
	}
	sig, err := decodeSignature(doc.Metadata.Signature)
	if err != nil {
		return fmt.Errorf("%w: metadata.signature %w", ErrSignatureInvalid, err)
	}
	if !ed25519.Verify(key, doc.canonical, sig) {
		return fmt.Errorf("%w: signature of policy %q does not match its content or the trusted key", ErrSignatureInvalid, doc.Metadata.Name)
	}
	return nil
}

// SchemaHash returns "sha256:<hex>" of the RFC 8785 JSON of a tools/list
// entry's {name, description, inputSchema}; absent members are left out,
// other members (annotations, outputSchema...) are ignored.
func SchemaHash(tool json.RawMessage) (string, error) {
	var t map[string]json.RawMessage
	if err := json.Unmarshal(tool, &t); err != nil {
		return "", fmt.Errorf("tool entry: %w", err)
	}
	sub := make(map[string]json.RawMessage, 3)
	for _, k := range []string{"name", "description", "inputSchema"} {
		if v, ok := t[k]; ok {
			sub[k] = v
		}
	}
	raw, err := json.Marshal(sub)
	if err != nil {
		return "", fmt.Errorf("tool entry: %w", err)
	}
	canon, err := jcs.Transform(raw)
	if err != nil {
		return "", fmt.Errorf("canonical tool entry: %w", err)
	}
	sum := sha256.Sum256(canon)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}
