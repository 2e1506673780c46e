package issuertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/aip-project/aip/issuer/binding"
)

// seedBindings stores bs in the file store at dir before the issuer
// opens it: what a person's consent in the bind flow leaves there. An
// empty ID gets a random one.
func seedBindings(dir string, now func() time.Time, bs []binding.Binding) error {
	if len(bs) == 0 {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	st, err := binding.OpenFile(binding.FileConfig{Path: filepath.Join(dir, "bindings.json"), Now: now})
	if err != nil {
		return err
	}
	for i, b := range bs {
		if b.ID == "" {
			if b.ID, err = binding.NewID(); err != nil {
				return err
			}
		}
		if _, err := st.Create(context.Background(), b); err != nil {
			return fmt.Errorf("bindings[%d]: %w", i, err)
		}
	}
	return nil
}
