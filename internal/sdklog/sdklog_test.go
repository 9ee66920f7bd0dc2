package sdklog

import (
	"os"
	"slices"
	"strings"
	"testing"
)

func TestDefaults(t *testing.T) {
	for _, tc := range []struct {
		name    string
		environ []string
		want    []string
	}{
		{"nothing set", []string{"HOME=/root", "PATH=/bin"}, QuietVars},
		{"empty TF_LOG counts as unset", []string{"TF_LOG=", "TF_LOG_SDK="}, QuietVars},
		{"unrelated TF_ variable", []string{"TF_CLI_CONFIG_FILE=/x", "TF_ACC=1"}, QuietVars},
		{"TF_LOG", []string{"TF_LOG=trace"}, nil},
		{"TF_LOG_PROVIDER", []string{"TF_LOG_PROVIDER=debug"}, nil},
		{"TF_LOG_PROVIDER_NIMBUS", []string{"TF_LOG_PROVIDER_NIMBUS=debug"}, nil},
		{"TF_LOG_SDK", []string{"TF_LOG_SDK=info"}, nil},
		{"TF_LOG_SDK_FRAMEWORK", []string{"TF_LOG_SDK_FRAMEWORK=trace"}, nil},
		{"TF_LOG_SDK_PROTO", []string{"TF_LOG_SDK_PROTO=trace"}, nil},
		{"TF_LOG_SDK_PROTO_DATA_DIR", []string{"TF_LOG_SDK_PROTO_DATA_DIR=/tmp/p"}, nil},
		{"TF_LOG_PATH", []string{"TF_LOG_PATH=/tmp/tf.log"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Defaults(tc.environ); !slices.Equal(got, tc.want) {
				t.Errorf("Defaults(%q) = %q, want %q", tc.environ, got, tc.want)
			}
		})
	}
}

func TestQuietUnlessSet(t *testing.T) {
	t.Run("unset: SDK subsystems and the provider logger off", func(t *testing.T) {
		clearTFLog(t)
		if err := QuietUnlessSet(); err != nil {
			t.Fatal(err)
		}
		if got := os.Getenv("TF_LOG_PROVIDER"); got != Off {
			t.Errorf("TF_LOG_PROVIDER = %q, want %q", got, Off)
		}
		for _, v := range QuietVars {
			if got := os.Getenv(v); got != Off {
				t.Errorf("%s = %q, want %q", v, got, Off)
			}
		}
	})
	t.Run("TF_LOG set: unchanged", func(t *testing.T) {
		clearTFLog(t)
		t.Setenv("TF_LOG", "trace")
		if err := QuietUnlessSet(); err != nil {
			t.Fatal(err)
		}
		for _, v := range QuietVars {
			if got := os.Getenv(v); got != "" {
				t.Errorf("%s = %q, want it left unset", v, got)
			}
		}
	})
}

// clearTFLog empties every TF_LOG* variable for the test (restored after).
func clearTFLog(t *testing.T) {
	t.Helper()
	for _, v := range SDKVars {
		t.Setenv(v, "")
	}
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "TF_LOG") {
			t.Setenv(name, "")
		}
	}
}
