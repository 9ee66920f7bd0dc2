package provider

// Memory of the listings (issue 10): the nimbus_services data source and
// the nimbus_service list resource (ListResource with include_resource)
// read over the protocol-6 server in-process, for a tenant of 200, 1,000
// and 10,000 built-in services on the in-process Nimbus server. Besides
// B/op and allocs/op each reports peak-heap-MB: the most heap (live and not
// yet collected objects, sampled every millisecond) held above what the
// process held before the call, the in-process server's page encoding
// included; that is what the provider's RSS follows. The SDK's logs are
// off, as in the provider process when no TF_LOG* is set.
//
//	go test -run '^$' -bench 'BenchmarkListing' -benchtime 1x ./internal/provider/

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

// benchListSizes are the sizes of the tenants listed.
var benchListSizes = []int{200, 1000, 10000}

// newBenchListing starts the server, creates n built-in services in its
// tenant and configures a provider; it returns the provider server, its
// schema and a client of the tenant.
func newBenchListing(b testing.TB, n int) (tfprotov6.ProviderServer, *tfprotov6.GetProviderSchemaResponse, *client.Client) {
	b.Helper()
	ts := testserver.Start(b)
	ctx := context.Background()
	c, err := client.New(client.Config{Endpoint: ts.URL, Token: ts.Token, TenantID: ts.Tenant})
	if err != nil {
		b.Fatal(err)
	}
	if err := createBuiltIns(ctx, c, n); err != nil {
		b.Fatal(err)
	}
	srv, schema := benchProvider(b, ts)
	return srv, schema, c
}

// createBuiltIns creates n stopped built-in services, 8 at a time.
func createBuiltIns(ctx context.Context, c *client.Client, n int) error {
	work := make(chan int)
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range work {
				_, err := c.Services.Create(ctx, api.CreateServiceRequest{
					Name:    fmt.Sprintf("svc-%05d", i),
					Labels:  map[string]string{"team": "bench", "index": fmt.Sprint(i)},
					Backend: api.Backend{Kind: api.BackendKindBuiltIn, Provider: api.ProviderLoadBalancer},
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	var err error
feed:
	for i := range n {
		select {
		case work <- i:
		case err = <-errs:
			break feed
		}
	}
	close(work)
	wg.Wait()
	close(errs)
	if err == nil {
		err = <-errs
	}
	return err
}

func diagsErr(diags []*tfprotov6.Diagnostic) error {
	for _, d := range diags {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			return fmt.Errorf("%s: %s", d.Summary, d.Detail)
		}
	}
	return nil
}

// heapPeak samples the heap in the background: stop returns the largest
// heap seen above the heap at the start (after a GC), in bytes.
func heapPeak() (stop func() uint64) {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	base := read()
	done, result := make(chan struct{}), make(chan uint64)
	go func() {
		peak := base
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				result <- max(peak, read()) - base
				return
			case <-t.C:
				peak = max(peak, read())
			}
		}
	}()
	return func() uint64 { close(done); return <-result }
}

// benchPeak runs op b.N times and reports the largest peak-heap-MB of a
// run. op returns a check of its result, run after the heap is sampled.
func benchPeak(b *testing.B, op func() (check func() error, err error)) {
	b.ReportAllocs()
	var peak uint64
	for b.Loop() {
		b.StopTimer()
		stop := heapPeak()
		b.StartTimer()
		check, err := op()
		b.StopTimer()
		peak = max(peak, stop())
		if err == nil {
			err = check()
		}
		b.StartTimer()
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}

// BenchmarkListing reads, for tenants of 200, 1,000 and 10,000 services,
// the nimbus_services data source and the nimbus_service list resource
// with include_resource (every page of the listing).
func BenchmarkListing(b *testing.B) {
	benchStderrToDevNull(b)
	benchSDKLogs(b, true)
	for _, n := range benchListSizes {
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			srv, schema, _ := newBenchListing(b, n)
			b.Run("data-source", func(b *testing.B) { benchServicesDataSource(b, srv, schema, n) })
			b.Run("list-resource", func(b *testing.B) { benchServiceList(b, srv, schema, n) })
		})
	}
}

func benchServicesDataSource(b *testing.B, srv tfprotov6.ProviderServer, schema *tfprotov6.GetProviderSchemaResponse, n int) {
	typ := schema.DataSourceSchemas["nimbus_services"].ValueType()
	dv := benchDynamic(b, typ, benchObject(b, typ, nil))
	benchPeak(b, func() (func() error, error) {
		resp, err := srv.ReadDataSource(benchLogContext(), &tfprotov6.ReadDataSourceRequest{TypeName: "nimbus_services", Config: dv})
		if err != nil {
			return nil, err
		}
		return func() error {
			if err := diagsErr(resp.Diagnostics); err != nil {
				return err
			}
			return checkListed(resp.State, typ, n)
		}, nil
	})
}

// checkListed checks that the data source's state lists n services.
func checkListed(state *tfprotov6.DynamicValue, typ tftypes.Type, n int) error {
	v, err := state.Unmarshal(typ)
	if err != nil {
		return err
	}
	attrs := map[string]tftypes.Value{}
	if err := v.As(&attrs); err != nil {
		return err
	}
	var names []tftypes.Value
	if err := attrs["names"].As(&names); err != nil {
		return err
	}
	if len(names) != n {
		return fmt.Errorf("listed %d services, want %d", len(names), n)
	}
	return nil
}

func benchServiceList(b *testing.B, srv tfprotov6.ProviderServer, schema *tfprotov6.GetProviderSchemaResponse, n int) {
	ls, ok := srv.(tfprotov6.ListResourceServer)
	if !ok {
		b.Fatal("the provider server has no ListResource")
	}
	typ := schema.ListResourceSchemas["nimbus_service"].ValueType()
	dv := benchDynamic(b, typ, benchObject(b, typ, nil))
	benchPeak(b, func() (func() error, error) {
		resp, err := ls.ListResource(benchLogContext(), &tfprotov6.ListResourceRequest{
			TypeName: "nimbus_service", Config: dv, IncludeResource: true, Limit: int64(n) + 1,
		})
		if err != nil {
			return nil, err
		}
		got := 0
		for r := range resp.Results {
			if err := diagsErr(r.Diagnostics); err != nil {
				return nil, err
			}
			got++
		}
		return func() error {
			if got != n {
				return fmt.Errorf("listed %d services, want %d", got, n)
			}
			return nil
		}, nil
	})
}
