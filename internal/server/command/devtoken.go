package command

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DevTokenFileName is the file in the data directory that keeps the token
// of `server --dev --data-dir DIR` across restarts (mode 0600).
const DevTokenFileName = "dev-token"

// newDevToken returns a fresh random dev-mode token.
func newDevToken() (string, error) {
	var b [20]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate dev token: %w", err)
	}
	return "dev-" + hex.EncodeToString(b[:]), nil
}

// devToken returns the dev-mode token kept in dataDir, creating it (and the
// directory) on first use, so the export lines printed by an earlier run
// keep working. reused reports whether it already existed. A token file
// readable by others is made private again.
func devToken(dataDir string) (token string, reused bool, err error) {
	path := filepath.Join(dataDir, DevTokenFileName)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		token = strings.TrimSpace(string(b))
		if token == "" || strings.ContainsAny(token, " \t\r\n") {
			return "", false, fmt.Errorf("dev token file %s is not a token: delete it to get a new one", path)
		}
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(path, 0o600); err != nil {
				return "", false, fmt.Errorf("dev token file %s is readable by others and cannot be made private: %w", path, err)
			}
		}
		return token, true, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", false, fmt.Errorf("read dev token: %w", err)
	}
	if token, err = newDevToken(); err != nil {
		return "", false, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", false, fmt.Errorf("create data directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", false, fmt.Errorf("write dev token: %w", err)
	}
	if _, err := f.WriteString(token + "\n"); err != nil {
		f.Close()
		return "", false, fmt.Errorf("write dev token: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", false, fmt.Errorf("write dev token: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", false, fmt.Errorf("write dev token: %w", err)
	}
	return token, false, nil
}
