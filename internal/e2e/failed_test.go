package e2e

import (
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/runtimes/sandboxtest"
	"github.com/nimbus/terraform-provider-nimbus/internal/testfixtures"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

// TestFailedServiceEndsWaitAndCanBeTornDown: a service whose process exits
// non-zero ends a ready wait at once with the server's message, and can then
// be stopped and deleted the way `terraform destroy` does it.
func TestFailedServiceEndsWaitAndCanBeTornDown(t *testing.T) {
	srv := testserver.Start(t, func(o *testserver.Options) { o.Runtime = "process" })
	c := testfixtures.ServerClient(t, srv)
	ctx := testfixtures.Context(t, time.Minute)
	argv, env := sandboxtest.Command(t, sandboxtest.Exit)
	env[sandboxtest.ExitCodeVar] = "5"
	req := sandboxService("crash", nil)
	req.Backend.Sandbox.Process = api.Process{Argv: api.RedactableList{Values: argv}, Environment: api.RedactableMap{Values: env}}
	mustCreate(t, c, req)
	start := time.Now()
	_, err := c.Services.Start(ctx, "crash", client.ActionOptions{WaitUntil: api.WaitReady, Timeout: 30 * time.Second})
	if !client.IsWaitFailed(err) || time.Since(start) > 10*time.Second {
		t.Fatalf("want a failed wait at once, got %v after %s", err, time.Since(start))
	}
	var we *client.WaitError
	if !asWait(err, &we) || we.LastState != api.ServiceFailed || we.LastMessage == "" {
		t.Fatalf("wait error: %+v", we)
	}
	// Restart fails the same way (the failure is not stale state).
	_, err = c.Services.Restart(ctx, "crash", client.ActionOptions{WaitUntil: api.WaitReady, Timeout: 30 * time.Second})
	if !client.IsWaitFailed(err) {
		t.Fatalf("restart: %v", err)
	}
	stopped, err := c.Services.Stop(ctx, "crash", client.ActionOptions{WaitUntil: api.WaitStopped, Timeout: 10 * time.Second})
	if err != nil || stopped.Status.LifecycleState != api.ServiceStopped {
		t.Fatalf("stop of a failed service: %+v %v", stopped, err)
	}
	if err := c.Services.Delete(ctx, "crash", client.DeleteOptions{IfMatchGeneration: stopped.Metadata.Generation}); err != nil {
		t.Fatal(err)
	}
}
