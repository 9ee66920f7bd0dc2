package client

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// TestWait_ProgressReportsEachNewStatus: a wait's Progress hook hears the
// first status and every status that differs from the last one reported,
// and nothing twice in a row.
func TestWait_ProgressReportsEachNewStatus(t *testing.T) {
	f, c := newFakeServer(t, true)
	go func() {
		time.Sleep(100 * time.Millisecond)
		f.set(func(s *api.Service, b *api.Sandbox) { s.Status.LifecycleState = api.ServiceStarting })
		time.Sleep(100 * time.Millisecond)
		f.set(func(s *api.Service, b *api.Sandbox) { s.Metadata.Labels = map[string]string{"a": "b"} }) // same summary
		time.Sleep(100 * time.Millisecond)
		f.set(running(1))
	}()
	var mu sync.Mutex
	var got []string
	progress := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, s)
	}
	_, err := c.Services.Wait(t.Context(), "worker", WaitOptions{Until: "ready", Timeout: 5 * time.Second, Progress: progress})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) < 2 || !strings.HasPrefix(got[0], "state stopped") || !strings.HasPrefix(got[len(got)-1], "state running, readiness ready") {
		t.Fatalf("progress %q: want the first status first and the ready status last", got)
	}
	for i := 1; i < len(got); i++ {
		if got[i] == got[i-1] {
			t.Fatalf("progress %q repeats %q", got, got[i])
		}
	}
}

// TestActions_ProgressAndSandboxStopBody: ActionOptions.Progress reaches the
// wait, and a sandbox stop sends {"ifMatchGeneration": N} only when asked.
func TestActions_ProgressAndSandboxStopBody(t *testing.T) {
	c, take := recordingServer(t)
	ctx := t.Context()
	var reported []string
	if _, err := c.Sandboxes.Stop(ctx, "sbx-1", ActionOptions{IfMatchGeneration: 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Sandboxes.Stop(ctx, "sbx-1", ActionOptions{}); err != nil {
		t.Fatal(err)
	}
	// The recording server answers "stopped" to everything: the wait ends at
	// the first read, which Progress reports.
	if _, err := c.Services.Stop(ctx, "web", ActionOptions{WaitUntil: "stopped", Timeout: 5 * time.Second,
		Progress: func(s string) { reported = append(reported, s) }}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`POST /v1/tenants/acc/sandboxes/sbx-1/stop {"ifMatchGeneration":3}`,
		`POST /v1/tenants/acc/sandboxes/sbx-1/stop`,
		`POST /v1/tenants/acc/services/web/stop`,
		`GET /v1/tenants/acc/services/web`,
	}
	if got := take(); !slices.Equal(got, want) {
		t.Fatalf("requests\n%q\nwant\n%q", got, want)
	}
	if len(reported) != 1 || !strings.HasPrefix(reported[0], "state stopped") {
		t.Fatalf("progress %q", reported)
	}
}
