package provider

// The checks every acceptance test uses: state and plan checks by resource
// address and attribute, state-capturing and -comparing TestCheckFuncs, and
// the CheckDestroy functions. One style throughout: a check names the
// address, the attribute and the expected value, nothing else.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
)

// The addresses of the resource most tests manage.
const (
	svcAddr = "nimbus_service.test"
	sbxAddr = "nimbus_sandbox.test"
	sesAddr = "nimbus_session.test"
)

// emptyPlan asserts that a plan made after apply and refresh has no changes
// (no perpetual diff): every resource's tests use it as
// ConfigPlanChecks.PostApplyPostRefresh.
var emptyPlan = []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}

// tfpath is the path of a top-level attribute; nested paths go on with
// .AtMapKey and .AtSliceIndex.
func tfpath(attr string) tfjsonpath.Path { return tfjsonpath.New(attr) }

// stateIs checks the value of a top-level attribute of addr in the state.
func stateIs(addr, attr string, v knownvalue.Check) statecheck.StateCheck {
	return statecheck.ExpectKnownValue(addr, tfpath(attr), v)
}

// stateAt checks the value at a nested path of addr in the state.
func stateAt(addr string, path tfjsonpath.Path, v knownvalue.Check) statecheck.StateCheck {
	return statecheck.ExpectKnownValue(addr, path, v)
}

// captureAttr stores a resource attribute into *dst (for PreConfig steps that
// act on the object through the client).
func captureAttr(name, key string, dst *string) func(*terraform.State) error {
	return func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources[name]
		if !ok {
			return fmt.Errorf("%s not in state", name)
		}
		v, ok := rs.Primary.Attributes[key]
		if !ok {
			return fmt.Errorf("%s has no %s", name, key)
		}
		*dst = v
		return nil
	}
}

// attrDiffers fails when the attribute equals *old (a replacement happened).
func attrDiffers(name, key string, old *string) func(*terraform.State) error {
	return func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources[name]
		if !ok {
			return fmt.Errorf("%s not in state", name)
		}
		if v := rs.Primary.Attributes[key]; v == *old {
			return fmt.Errorf("%s.%s is still %q; expected a new object", name, key, v)
		}
		return nil
	}
}

// stateNeverContains is a state check failing when secret appears anywhere
// in the state (values, sensitive values, nested attributes).
type stateNeverContains struct{ secret string }

func (c stateNeverContains) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	b, err := json.Marshal(req.State)
	if err != nil {
		resp.Error = err
		return
	}
	if strings.Contains(string(b), c.secret) {
		resp.Error = fmt.Errorf("the state contains the write-only secret")
	}
}

// isolateWorkDirs points the test framework's working directories (and so
// the CLI's state files) at a directory of this test's own.
func isolateWorkDirs(t *testing.T) string {
	dir := t.TempDir()
	t.Setenv("TF_ACC_TEMP_DIR", dir)
	return dir
}

// stateFileNeverContains fails when secret appears in any *.tfstate file
// under dir (from isolateWorkDirs): belt and braces beside the JSON state
// check, it reads the raw files the CLI wrote.
func stateFileNeverContains(dir, secret string) func(*terraform.State) error {
	return func(*terraform.State) error {
		seen := 0
		err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !strings.HasSuffix(p, ".tfstate") {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			seen++
			if strings.Contains(string(b), secret) {
				return fmt.Errorf("state file %s contains the write-only secret", p)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if seen == 0 {
			return fmt.Errorf("no state file found under %s", dir)
		}
		return nil
	}
}

// eachDestroyed is a CheckDestroy: gone (an error saying why not) holds
// for the id of every resource of type typ left in the last state.
func eachDestroyed(typ string, gone func(id string) error) func(*terraform.State) error {
	return func(s *terraform.State) error {
		for name, rs := range s.RootModule().Resources {
			if rs.Type != typ {
				continue
			}
			if err := gone(rs.Primary.ID); err != nil {
				return fmt.Errorf("%s (%s): %w", name, rs.Primary.ID, err)
			}
		}
		return nil
	}
}

// checkSandboxesGone is a CheckDestroy: every nimbus_sandbox in the state is
// gone from the server.
func checkSandboxesGone(t *testing.T, c *client.Client) func(*terraform.State) error {
	return eachDestroyed("nimbus_sandbox", func(id string) error {
		_, err := c.Sandboxes.Get(t.Context(), id)
		if err == nil {
			return errors.New("still exists after destroy")
		}
		if client.IsNotFound(err) {
			return nil
		}
		return err
	})
}

// checkSessionsClosed is a CheckDestroy: every nimbus_session in the state
// is closed on the server (or gone).
func checkSessionsClosed(t *testing.T, c *client.Client) func(*terraform.State) error {
	return eachDestroyed("nimbus_session", func(id string) error {
		ses, err := c.Sessions.Get(t.Context(), id)
		if client.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if ses.Status.LifecycleState == api.SessionOpen {
			return errors.New("still open after destroy")
		}
		return nil
	})
}
