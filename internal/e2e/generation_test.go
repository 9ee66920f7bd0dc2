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

// TestGenerationAndResourceVersion: generation starts at 1 and moves only on
// spec or label changes; resourceVersion changes on every write, status too.
func TestGenerationAndResourceVersion(t *testing.T) {
	srv := testserver.Start(t)
	c := testfixtures.ServerClient(t, srv)
	ctx := testfixtures.Context(t, time.Minute)

	s := mustCreate(t, c, sandboxService("gen", map[string]string{"v": "1"}))
	if s.Metadata.Generation != 1 || s.Metadata.ResourceVersion == "" {
		t.Fatalf("created: %+v", s.Metadata)
	}
	rvs := map[string]bool{s.Metadata.ResourceVersion: true}
	seen := func(what string, o *api.Service) {
		t.Helper()
		if rvs[o.Metadata.ResourceVersion] {
			t.Fatalf("%s: resourceVersion %q reused", what, o.Metadata.ResourceVersion)
		}
		rvs[o.Metadata.ResourceVersion] = true
	}
	// A read changes nothing.
	g, _ := c.Services.Get(ctx, "gen")
	if g.Metadata.ResourceVersion != s.Metadata.ResourceVersion || g.Metadata.Generation != 1 {
		t.Fatalf("read changed the object: %+v", g.Metadata)
	}
	// Start: status changes only → generation stays, resourceVersion moves.
	r := mustStart(t, c, "gen")
	seen("start", r)
	if r.Metadata.Generation != 1 || r.Status.ObservedGeneration != 1 {
		t.Fatalf("start changed generation: %+v", r.Metadata)
	}
	// Label change → generation 2.
	u, err := c.Services.Update(ctx, "gen", api.UpdateServiceRequest{Labels: labels(map[string]string{"v": "2"}), IfMatchGeneration: gen(1)})
	if err != nil || u.Metadata.Generation != 2 {
		t.Fatalf("label update: %+v %v", u, err)
	}
	seen("label update", u)
	if u.Spec.Backend.Kind != api.BackendKindSandbox {
		t.Fatalf("absent backend not kept: %+v", u.Spec.Backend)
	}
	// Backend change of a running service → generation 3, the service rolls
	// and observedGeneration catches up.
	u, err = c.Services.Update(ctx, "gen", api.UpdateServiceRequest{Backend: &api.Backend{Kind: api.BackendKindBuiltIn, Provider: api.ProviderLoadBalancer}, IfMatchGeneration: gen(2)})
	if err != nil || u.Metadata.Generation != 3 || u.Metadata.Labels["v"] != "2" {
		t.Fatalf("backend update: %+v %v", u, err)
	}
	seen("backend update", u)
	w, err := c.Services.Wait(ctx, "gen", client.WaitOptions{Until: api.WaitReady, Timeout: 10 * time.Second})
	if err != nil || w.Status.ObservedGeneration != 3 || w.Metadata.Generation != 3 {
		t.Fatalf("roll: %+v %v", w, err)
	}
	// Stop: status only.
	st, err := c.Services.Stop(ctx, "gen", client.ActionOptions{WaitUntil: api.WaitStopped, Timeout: 10 * time.Second})
	if err != nil || st.Metadata.Generation != 3 {
		t.Fatalf("stop: %+v %v", st, err)
	}
	seen("stop", st)
	// Stale generation → precondition_failed naming the current one.
	_, err = c.Services.Update(ctx, "gen", api.UpdateServiceRequest{Labels: labels(map[string]string{}), IfMatchGeneration: gen(2)})
	if e := wantCode(t, err, api.CodePreconditionFailed); e.Details.CurrentGeneration != 3 {
		t.Fatalf("current generation %d", e.Details.CurrentGeneration)
	}
	err = c.Services.Delete(ctx, "gen", client.DeleteOptions{IfMatchGeneration: 2})
	wantCode(t, err, api.CodePreconditionFailed)
	// A present, empty labels map clears the labels.
	u, err = c.Services.Update(ctx, "gen", api.UpdateServiceRequest{Labels: labels(map[string]string{}), IfMatchGeneration: gen(3)})
	if err != nil || len(u.Metadata.Labels) != 0 || u.Metadata.Generation != 4 {
		t.Fatalf("clear labels: %+v %v", u, err)
	}
	if err := c.Services.Delete(ctx, "gen", client.DeleteOptions{IfMatchGeneration: 4}); err != nil {
		t.Fatal(err)
	}
}

// TestGenerationRace: many goroutines race a generation-checked update;
// exactly one wins each round, the rest get op.precondition_failed.
func TestGenerationRace(t *testing.T) {
	srv := testserver.Start(t)
	c := testfixtures.ServerClient(t, srv)
	ctx := testfixtures.Context(t, time.Minute)
	mustCreate(t, c, testfixtures.BuiltInService("race", api.ProviderBrowser, nil))
	sb, err := c.Sandboxes.Create(ctx, standaloneSandbox(nil))
	if err != nil {
		t.Fatal(err)
	}
	const writers, rounds = 24, 8
	for round := 0; round < rounds; round++ {
		cur, err := c.Services.Get(ctx, "race")
		if err != nil {
			t.Fatal(err)
		}
		curSb, err := c.Sandboxes.Get(ctx, sb.Metadata.ID)
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		winners, sbWinners := []int{}, []int{}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := 0; i < writers; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				// Unique per round: an update to identical labels is a no-op 200.
				l := labels(map[string]string{"winner": fmt.Sprintf("r%d-%d", round, i)})
				var err error
				if i%2 == 0 {
					_, err = c.Services.Update(ctx, "race", api.UpdateServiceRequest{Labels: l, IfMatchGeneration: gen(cur.Metadata.Generation)})
				} else {
					_, err = c.Sandboxes.Update(ctx, sb.Metadata.ID, api.UpdateSandboxRequest{Labels: l, IfMatchGeneration: gen(curSb.Metadata.Generation)})
				}
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil && i%2 == 0:
					winners = append(winners, i)
				case err == nil:
					sbWinners = append(sbWinners, i)
				case !client.IsPreconditionFailed(err):
					t.Errorf("writer %d: %v", i, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if len(winners) != 1 || len(sbWinners) != 1 {
			t.Fatalf("round %d: service winners %v, sandbox winners %v; want exactly one each", round, winners, sbWinners)
		}
		after, _ := c.Services.Get(ctx, "race")
		if after.Metadata.Generation != cur.Metadata.Generation+1 || after.Metadata.Labels["winner"] != fmt.Sprintf("r%d-%d", round, winners[0]) {
			t.Fatalf("round %d: %+v, winner %d", round, after.Metadata, winners[0])
		}
		afterSb, _ := c.Sandboxes.Get(ctx, sb.Metadata.ID)
		if afterSb.Metadata.Generation != curSb.Metadata.Generation+1 || afterSb.Metadata.Labels["winner"] != fmt.Sprintf("r%d-%d", round, sbWinners[0]) {
			t.Fatalf("round %d sandbox: %+v, winner %d", round, afterSb.Metadata, sbWinners[0])
		}
	}
}
