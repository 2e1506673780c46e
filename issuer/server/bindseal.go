package server

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// sealer keeps the bind flow's state in cookies sealed with AES-256-GCM:
// any replica holding the same key (sso.state_key_file) can continue a
// flow, and the browser can neither read nor change it. The cookie name is
// the additional data, so one cookie cannot stand for another.
type sealer struct {
	aead   cipher.AEAD
	secure bool // Secure cookies (issuer served over https)
}

func newSealer(key []byte, secure bool) (*sealer, error) {
	if key == nil {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("bind state key: %w", err)
		}
	}
	k := sha256.Sum256(key)
	block, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, fmt.Errorf("bind state key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("bind state key: %w", err)
	}
	return &sealer{aead: aead, secure: secure}, nil
}

// sealed is what every sealed cookie holds besides its payload.
type sealed struct {
	Exp  int64           `json:"exp"`
	Data json.RawMessage `json:"data"`
}

var errBadCookie = errors.New("missing, altered or expired flow cookie")

// cookie seals v into an HttpOnly, SameSite=Lax cookie on path, valid for
// ttl.
func (s *sealer) cookie(name, path string, v any, now time.Time, ttl time.Duration) (*http.Cookie, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	plain, err := json.Marshal(sealed{Exp: now.Add(ttl).Unix(), Data: data})
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	box := s.aead.Seal(nonce, nonce, plain, []byte(name))
	//nolint:gosec // G124: Secure whenever the issuer is https; config allows plain http on loopback only
	return &http.Cookie{Name: name, Value: base64.RawURLEncoding.EncodeToString(box), Path: path,
		MaxAge: int(ttl / time.Second), HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode}, nil
}

// open reads the cookie name of r into v.
func (s *sealer) open(r *http.Request, name string, v any, now time.Time) error {
	c, err := r.Cookie(name)
	if err != nil || len(c.Value) > 8<<10 {
		return errBadCookie
	}
	box, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || len(box) < s.aead.NonceSize() {
		return errBadCookie
	}
	plain, err := s.aead.Open(nil, box[:s.aead.NonceSize()], box[s.aead.NonceSize():], []byte(name))
	if err != nil {
		return errBadCookie
	}
	var sd sealed
	if err := json.Unmarshal(plain, &sd); err != nil || now.Unix() >= sd.Exp {
		return errBadCookie
	}
	if err := json.Unmarshal(sd.Data, v); err != nil {
		return errBadCookie
	}
	return nil
}

// clear is a cookie that deletes name.
func (s *sealer) clear(name, path string) *http.Cookie {
	//nolint:gosec // G124: as in cookie
	return &http.Cookie{Name: name, Path: path, MaxAge: -1, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode}
}
