// Package sdklog decides the plugin SDK's log levels for the provider
// process.
//
// terraform-plugin-go and terraform-plugin-framework log every RPC at trace
// level and format each line as JSON (go-hclog) when no level is set, even
// though Terraform discards provider output unless TF_LOG is set. QuietUnlessSet
// turns the SDK's own subsystems, and the provider's own logger, off when the
// user asked for no logs at all; with any TF_LOG* variable set, nothing
// changes and every log line is kept.
package sdklog

import (
	"os"
	"slices"
	"strings"
)

// Off is the level go-hclog's LevelFromString reads as "no output".
const Off = "off"

// SDKVars are the variables terraform-plugin-log's tfsdklog.WithLevelFromEnv
// reads for the SDK loggers the provider process creates: the SDK root
// (terraform-plugin-go), its proto subsystem and the framework subsystem.
var SDKVars = []string{"TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK"}

// ProviderVar is the variable terraform-plugin-go reads for the provider's
// root logger (tflog, and the subsystems the provider creates under it, such
// as the API call log). Terraform keeps a provider's log lines only when
// TF_LOG_PROVIDER or TF_LOG is set; with neither, formatting them (as JSON,
// one line per API call) is work nobody reads.
const ProviderVar = "TF_LOG_PROVIDER"

// QuietVars are the variables Defaults chooses when nothing is set:
// SDKVars and ProviderVar.
var QuietVars = append(slices.Clone(SDKVars), ProviderVar)

// Defaults returns the variables to set to Off given the process
// environment environ (os.Environ's form): QuietVars when no TF_LOG* variable
// (TF_LOG, TF_LOG_PATH, TF_LOG_PROVIDER*, TF_LOG_SDK*, …) has a non-empty
// value, nil otherwise.
func Defaults(environ []string) []string {
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "TF_LOG") && value != "" {
			return nil
		}
	}
	return QuietVars
}

// QuietUnlessSet sets the SDK log levels Defaults chooses for this process.
// Call it before the provider server starts.
func QuietUnlessSet() error {
	for _, name := range Defaults(os.Environ()) {
		if err := os.Setenv(name, Off); err != nil {
			return err
		}
	}
	return nil
}
