package server_test

import (
	"testing"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

func TestStandaloneSandboxLifecycle(t *testing.T) {
	srv := testserver.Start(t)
	req := standaloneSandbox("registry.example/job:1")
	req.Labels = map[string]string{"team": "a"}
	sb := mustCreateSandbox(t, srv, req)
	if sb.Metadata.Generation != 1 || len(sb.Metadata.ID) < 5 || sb.Metadata.ID[:4] != "sbx-" {
		t.Fatalf("created: %+v", sb.Metadata)
	}
	if s := sb.Status.LifecycleState; s != api.SandboxPending && s != api.SandboxStarting {
		t.Fatalf("a new sandbox starts at once: %s", s)
	}
	run := waitSandbox(t, srv, sb.Metadata.ID, sbxState(api.SandboxRunning))
	if len(run.Status.Endpoints) == 0 || run.Status.StartedAt == nil {
		t.Fatalf("running: %+v", run.Status)
	}
	// labels update: generation-checked.
	expect(t, do(t, srv, "PATCH", tp+"/sandboxes/"+sb.Metadata.ID, map[string]any{"labels": map[string]string{"team": "b"}}), 428, api.CodePreconditionRequired)
	expect(t, do(t, srv, "PATCH", tp+"/sandboxes/"+sb.Metadata.ID, map[string]any{"labels": map[string]string{"team": "b"}, "ifMatchGeneration": 5}), 412, api.CodePreconditionFailed)
	u := decoded[api.Sandbox](t, do(t, srv, "PATCH", tp+"/sandboxes/"+sb.Metadata.ID, map[string]any{"labels": map[string]string{"team": "b"}, "ifMatchGeneration": 1}), 200)
	if u.Metadata.Generation != 2 || u.Metadata.Labels["team"] != "b" {
		t.Fatalf("updated: %+v", u.Metadata)
	}
	// running sandbox: delete without force conflicts.
	expect(t, do(t, srv, "DELETE", tp+"/sandboxes/"+sb.Metadata.ID, nil), 409, api.CodeConflict)
	expect(t, do(t, srv, "POST", tp+"/sandboxes/"+sb.Metadata.ID+"/stop", nil), 200, "")
	st := waitSandbox(t, srv, sb.Metadata.ID, sbxState(api.SandboxStopped))
	if st.Status.StoppedAt == nil || len(st.Status.Endpoints) != 0 {
		t.Fatalf("stopped: %+v", st.Status)
	}
	// stop of a stopped sandbox is a no-op.
	r := do(t, srv, "POST", tp+"/sandboxes/"+sb.Metadata.ID+"/stop", nil)
	var again api.Sandbox
	r.into(t, &again)
	if again.Metadata.ResourceVersion != st.Metadata.ResourceVersion {
		t.Fatal("no-op stop wrote the sandbox")
	}
	if r := do(t, srv, "DELETE", tp+"/sandboxes/"+sb.Metadata.ID+"?ifMatchGeneration=2", nil); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	expect(t, do(t, srv, "GET", tp+"/sandboxes/"+sb.Metadata.ID, nil), 404, api.CodeNotFound)
}

func TestSandboxFails(t *testing.T) {
	srv := testserver.Start(t)
	sb := mustCreateSandbox(t, srv, standaloneSandbox("fail.nimbus.invalid/job:1"))
	f := waitSandbox(t, srv, sb.Metadata.ID, sbxState(api.SandboxFailed))
	if f.Status.ExitCode == nil || *f.Status.ExitCode != 1 || f.Status.Message == "" {
		t.Fatalf("failed: %+v", f.Status)
	}
	// A failed sandbox can be deleted without force.
	if r := do(t, srv, "DELETE", tp+"/sandboxes/"+sb.Metadata.ID, nil); r.status != 204 {
		t.Fatalf("delete failed sandbox: %d %s", r.status, r.body)
	}
}

// Stop and force-delete of a sandbox check an optional generation first: a
// stale one is refused and the sandbox keeps running.
func TestSandboxStopAndDeleteCheckGeneration(t *testing.T) {
	srv := testserver.Start(t)
	sb := mustCreateSandbox(t, srv, standaloneSandbox("registry.example/job:1"))
	id := sb.Metadata.ID
	waitSandbox(t, srv, id, sbxState(api.SandboxRunning))
	expect(t, do(t, srv, "PATCH", tp+"/sandboxes/"+id, map[string]any{"labels": map[string]string{"team": "b"}, "ifMatchGeneration": 1}), 200, "")

	e := expect(t, do(t, srv, "POST", tp+"/sandboxes/"+id+"/stop", map[string]any{"ifMatchGeneration": 1}), 412, api.CodePreconditionFailed)
	if e.Details == nil || e.Details.CurrentGeneration != 2 {
		t.Fatalf("stale stop: the error does not name the current generation: %+v", e)
	}
	expect(t, do(t, srv, "POST", tp+"/sandboxes/"+id+"/stop", map[string]any{"ifMatchGeneration": 0}), 400, api.CodeInvalid)
	expect(t, do(t, srv, "DELETE", tp+"/sandboxes/"+id+"?ifMatchGeneration=1&force=true", nil), 412, api.CodePreconditionFailed)
	var cur api.Sandbox
	do(t, srv, "GET", tp+"/sandboxes/"+id, nil).into(t, &cur)
	if cur.Status.LifecycleState != api.SandboxRunning {
		t.Fatalf("a refused stop or delete changed the sandbox: %s", cur.Status.LifecycleState)
	}

	// The current generation stops it; a forced delete with it deletes it.
	expect(t, do(t, srv, "POST", tp+"/sandboxes/"+id+"/stop", map[string]any{"ifMatchGeneration": 2}), 200, "")
	waitSandbox(t, srv, id, sbxState(api.SandboxStopped))
	sb2 := mustCreateSandbox(t, srv, standaloneSandbox("registry.example/job:1"))
	waitSandbox(t, srv, sb2.Metadata.ID, sbxState(api.SandboxRunning))
	if r := do(t, srv, "DELETE", tp+"/sandboxes/"+sb2.Metadata.ID+"?ifMatchGeneration=1&force=true", nil); r.status != 204 {
		t.Fatalf("forced delete: %d %s", r.status, r.body)
	}
	expect(t, do(t, srv, "GET", tp+"/sandboxes/"+sb2.Metadata.ID, nil), 404, api.CodeNotFound)
}
