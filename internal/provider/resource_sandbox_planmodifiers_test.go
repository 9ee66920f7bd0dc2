package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
)

type fakePrivate map[string]string

func (f fakePrivate) GetKey(_ context.Context, key string) ([]byte, diag.Diagnostics) {
	return []byte(f[key]), nil
}

func TestAdoptLaunchInput(t *testing.T) {
	ctx := t.Context()
	argv := func(lc launchCounts) int { return lc.Argv }
	imported := fakePrivate{privateImported: "true", privateLaunchCounts: `{"argv":2,"env":1}`}
	created := fakePrivate{privateLaunchCounts: `{"argv":2,"env":1}`}
	for _, tc := range []struct {
		name      string
		p         privateGetter
		stateNull bool
		count     int
		want      bool
	}{
		{"imported, counts match", imported, true, 2, true},
		{"imported, counts differ", imported, true, 3, false},
		{"imported, state already known", imported, false, 2, false},
		{"not imported (switch from environment_wo)", created, true, 2, false},
		{"no private state", nil, true, 2, false},
	} {
		got, diags := adoptLaunchInput(ctx, tc.p, tc.stateNull, tc.count, argv)
		if diags.HasError() {
			t.Fatalf("%s: %v", tc.name, diags)
		}
		if got != tc.want {
			t.Errorf("%s: adopt = %v, want %v", tc.name, got, tc.want)
		}
	}
	if _, diags := adoptLaunchInput(ctx, fakePrivate{privateImported: "true", privateLaunchCounts: "{"}, true, 2, argv); !diags.HasError() {
		t.Error("corrupt private state: no error")
	}
}
