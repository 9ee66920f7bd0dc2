package api

import (
	"encoding/json"
	"log/slog"
)

// LogValue logs a backend as its redacted JSON form: secrets never reach a
// log, and pointer fields are shown by value, not by address.
func (b Backend) LogValue() slog.Value { return jsonLogValue(b.Redacted()) }

// LogValue logs a sandbox spec as its redacted JSON form.
func (s SandboxSpec) LogValue() slog.Value { return jsonLogValue(s.Redacted()) }

func jsonLogValue(v any) slog.Value {
	b, err := json.Marshal(v)
	if err != nil {
		return slog.StringValue("unloggable: " + err.Error())
	}
	return slog.StringValue(string(b))
}
