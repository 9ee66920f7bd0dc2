package e2e

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/testfixtures"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

// TestParallelLifecycles: one client shared by 64 goroutines (Terraform
// runs resources in parallel) creates, starts, waits for, stops and deletes
// services concurrently.
func TestParallelLifecycles(t *testing.T) {
	srv := testserver.Start(t)
	c := testfixtures.ServerClient(t, srv)
	ctx := testfixtures.Context(t, time.Minute)
	const n = 64
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("par-%02d", i)
			err := func() error {
				if _, err := c.Services.Create(ctx, sandboxService(name, map[string]string{"batch": "par"})); err != nil {
					return err
				}
				s, err := c.Services.Start(ctx, name, client.ActionOptions{WaitUntil: api.WaitReady, Timeout: 30 * time.Second})
				if err != nil {
					return err
				}
				if _, err := c.Services.Stop(ctx, name, client.ActionOptions{WaitUntil: api.WaitStopped, Timeout: 30 * time.Second}); err != nil {
					return err
				}
				return c.Services.Delete(ctx, name, client.DeleteOptions{IfMatchGeneration: s.Metadata.Generation})
			}()
			if err != nil {
				errs <- fmt.Errorf("%s: %w", name, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	l, err := c.Services.List(ctx, client.ListServicesOptions{LabelKey: "batch", LabelValue: "par"})
	if err != nil || len(l.Items) != 0 {
		t.Fatalf("left over: %d %v", len(l.Items), err)
	}
}
