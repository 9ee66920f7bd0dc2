package provider

// Benchmarks of the provider's per-RPC cost (issue 10): the protocol-6
// provider server driven in-process the way Terraform drives it, for one
// nimbus_service with a built-in backend whose state came from a real
// create against the in-process Nimbus server. Each RPC gets the logger
// context terraform-plugin-go's gRPC server (tf6server) builds per call, so
// the SDK's logging costs what it costs in `terraform plan`; the lines go to
// /dev/null instead of the plugin's stderr pipe. Every benchmark runs twice:
// sdk-logs=default (no TF_LOG* set: the SDK logs at trace level, as JSON)
// and sdk-logs=off (the variables sdklog.QuietUnlessSet sets in main: the
// SDK subsystems and the provider's own logger off).
//
// Besides ns/op and allocs/op each reports cpu-ms/op (see benchCPU).
//
//	go test -run '^$' -bench BenchmarkRPC -cpuprofile /tmp/cpu.out ./internal/provider/

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"
	"github.com/hashicorp/terraform-plugin-log/tfsdklog"

	"github.com/nimbus/terraform-provider-nimbus/internal/sdklog"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

// benchService is a configured provider server and one created service.
type benchService struct {
	srv    tfprotov6.ProviderServer
	typ    tftypes.Type // nimbus_service's object type
	config tftypes.Value
	state  *tfprotov6.DynamicValue
}

// benchLogContext is the logger context tf6server's loggingContext builds
// for every RPC (terraform-plugin-go internal/logging.InitContext): the SDK
// root logger, its proto subsystem and the provider's root logger, each at
// the level its TF_LOG* variable sets (trace when none is).
func benchLogContext() context.Context {
	ctx := tfsdklog.NewRootSDKLogger(context.Background(), tfsdklog.WithLevelFromEnv("TF_LOG_SDK"))
	ctx = tfsdklog.NewSubsystem(ctx, "proto", tfsdklog.WithAdditionalLocationOffset(1), tfsdklog.WithLevelFromEnv("TF_LOG_SDK_PROTO"))
	ctx = tfsdklog.NewRootProviderLogger(ctx, tflog.WithLevelFromEnv("TF_LOG_PROVIDER"))
	return ctx
}

// benchLogModes runs fn once per SDK log mode (see the file comment).
func benchLogModes(b *testing.B, fn func(b *testing.B)) {
	benchStderrToDevNull(b)
	for _, mode := range []string{"default", "off"} {
		b.Run("sdk-logs="+mode, func(b *testing.B) {
			benchSDKLogs(b, mode == "off")
			fn(b)
		})
	}
}

// benchStderrToDevNull points os.Stderr at /dev/null for the benchmark: the
// SDK loggers write to os.Stderr as it is when each RPC starts (in the
// plugin process a pipe Terraform reads).
func benchStderrToDevNull(b *testing.B) {
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	stderr := os.Stderr
	os.Stderr = devNull
	b.Cleanup(func() {
		os.Stderr = stderr
		if err := devNull.Close(); err != nil {
			b.Error(err)
		}
	})
}

// benchSDKLogs unsets every TF_LOG* variable and with off sets the ones
// sdklog.QuietUnlessSet sets in main.
func benchSDKLogs(b *testing.B, off bool) {
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "TF_LOG") {
			b.Setenv(name, "")
		}
	}
	if off {
		for _, name := range sdklog.Defaults(os.Environ()) {
			b.Setenv(name, sdklog.Off)
		}
	}
}

// benchCPU reports cpu-ms/op: the CPU time of the whole process (user +
// system, all threads: the RPC, the garbage collector and the in-process
// Nimbus server's answer) per iteration, a figure that a busy machine
// inflates far less than ns/op. Call the function it returns after the loop.
func benchCPU(b *testing.B) func() {
	start := processCPU(b)
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64(processCPU(b)-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
		}
	}
}

func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchCheck(b testing.TB, what string, err error, diags []*tfprotov6.Diagnostic) {
	b.Helper()
	if err != nil {
		b.Fatalf("%s: %v", what, err)
	}
	for _, d := range diags {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			b.Fatalf("%s: %s: %s", what, d.Summary, d.Detail)
		}
	}
}

func benchDynamic(b testing.TB, typ tftypes.Type, v tftypes.Value) *tfprotov6.DynamicValue {
	b.Helper()
	dv, err := tfprotov6.NewDynamicValue(typ, v)
	if err != nil {
		b.Fatal(err)
	}
	return &dv
}

// benchObject is a value of the object type typ: vals, null elsewhere.
func benchObject(b testing.TB, typ tftypes.Type, vals map[string]tftypes.Value) tftypes.Value {
	b.Helper()
	obj, ok := typ.(tftypes.Object)
	if !ok {
		b.Fatalf("%s is not an object type", typ)
	}
	all := make(map[string]tftypes.Value, len(obj.AttributeTypes))
	for name, at := range obj.AttributeTypes {
		if v, ok := vals[name]; ok {
			all[name] = v
		} else {
			all[name] = tftypes.NewValue(at, nil)
		}
	}
	return tftypes.NewValue(typ, all)
}

// newBenchService starts the in-process server, configures the provider
// and creates a nimbus_service with a built-in backend through
// PlanResourceChange and ApplyResourceChange.
func newBenchService(b *testing.B) *benchService {
	b.Helper()
	ts := testserver.Start(b, func(o *testserver.Options) {
		o.StartDelay, o.StopDelay, o.HealthInterval = 20*time.Millisecond, 20*time.Millisecond, 50*time.Millisecond
	})
	ctx := context.Background()
	srv, schema := benchProvider(b, ts)

	typ := schema.ResourceSchemas["nimbus_service"].ValueType()
	builtInType := typ.(tftypes.Object).AttributeTypes["built_in"]
	config := benchObject(b, typ, map[string]tftypes.Value{
		"name":     str("bench"),
		"built_in": benchObject(b, builtInType, map[string]tftypes.Value{"provider": str("loadBalancer")}),
	})
	null := benchDynamic(b, typ, tftypes.NewValue(typ, nil))
	cfg := benchDynamic(b, typ, config)
	plan, err := srv.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{
		TypeName: "nimbus_service", PriorState: null, ProposedNewState: cfg, Config: cfg,
	})
	benchCheck(b, "plan create", err, plan.Diagnostics)
	applied, err := srv.ApplyResourceChange(ctx, &tfprotov6.ApplyResourceChangeRequest{
		TypeName: "nimbus_service", PriorState: null, PlannedState: plan.PlannedState, Config: cfg,
		PlannedPrivate: plan.PlannedPrivate,
	})
	benchCheck(b, "apply create", err, applied.Diagnostics)
	return &benchService{srv: srv, typ: typ, config: config, state: applied.NewState}
}

// benchProvider is a protocol-6 provider server configured for ts, and its
// schema.
func benchProvider(b testing.TB, ts *testserver.Server) (tfprotov6.ProviderServer, *tfprotov6.GetProviderSchemaResponse) {
	b.Helper()
	ctx := context.Background()
	srv, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		b.Fatal(err)
	}
	schema, err := srv.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	benchCheck(b, "schema", err, schemaDiags(schema))
	ptyp := schema.Provider.ValueType()
	pcfg := benchObject(b, ptyp, map[string]tftypes.Value{
		"endpoint": str(ts.URL), "tenant_id": str(ts.Tenant), "token": str(ts.Token),
	})
	conf, err := srv.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{Config: benchDynamic(b, ptyp, pcfg)})
	benchCheck(b, "configure", err, conf.Diagnostics)
	return srv, schema
}

func schemaDiags(s *tfprotov6.GetProviderSchemaResponse) []*tfprotov6.Diagnostic {
	if s == nil {
		return nil
	}
	return s.Diagnostics
}

// BenchmarkRPC_ReadResource is one refresh of the service: a GET and the
// state rebuilt from it.
func BenchmarkRPC_ReadResource(b *testing.B) {
	benchLogModes(b, func(b *testing.B) {
		s := newBenchService(b)
		b.ReportAllocs()
		defer benchCPU(b)()
		for b.Loop() {
			resp, err := s.srv.ReadResource(benchLogContext(), &tfprotov6.ReadResourceRequest{
				TypeName: "nimbus_service", CurrentState: s.state,
			})
			benchCheck(b, "read", err, resp.Diagnostics)
		}
	})
}

// BenchmarkRPC_PlanResourceChange is the plan of an unchanged service (what
// a refresh plan asks for every object): prior state, its configuration and
// the proposed new state Terraform computes from them (the prior state, as
// nothing changed).
func BenchmarkRPC_PlanResourceChange(b *testing.B) {
	benchLogModes(b, func(b *testing.B) {
		s := newBenchService(b)
		cfg := benchDynamic(b, s.typ, s.config)
		b.ReportAllocs()
		defer benchCPU(b)()
		for b.Loop() {
			resp, err := s.srv.PlanResourceChange(benchLogContext(), &tfprotov6.PlanResourceChangeRequest{
				TypeName: "nimbus_service", PriorState: s.state, ProposedNewState: s.state, Config: cfg,
			})
			benchCheck(b, "plan", err, resp.Diagnostics)
		}
	})
}

// withAttr returns the object v with attribute name set to val.
func withAttr(b *testing.B, typ tftypes.Type, v tftypes.Value, name string, val tftypes.Value) tftypes.Value {
	b.Helper()
	attrs := map[string]tftypes.Value{}
	if err := v.As(&attrs); err != nil {
		b.Fatal(err)
	}
	attrs[name] = val
	return tftypes.NewValue(typ, attrs)
}

// BenchmarkRPC_Update is one in-place update of the service, as `terraform
// apply` runs it: PlanResourceChange then ApplyResourceChange with a label
// that changes every time (the server bumps the generation; a built-in
// backend does not roll).
func BenchmarkRPC_Update(b *testing.B) {
	benchLogModes(b, func(b *testing.B) {
		s := newBenchService(b)
		labelsType := s.typ.(tftypes.Object).AttributeTypes["labels"]
		b.ReportAllocs()
		defer benchCPU(b)()
		i := 0
		for b.Loop() {
			i++
			labels := tftypes.NewValue(labelsType, map[string]tftypes.Value{"round": str(strconv.Itoa(i))})
			prior, err := s.state.Unmarshal(s.typ)
			if err != nil {
				b.Fatal(err)
			}
			cfg := benchDynamic(b, s.typ, withAttr(b, s.typ, s.config, "labels", labels))
			proposed := benchDynamic(b, s.typ, withAttr(b, s.typ, prior, "labels", labels))
			ctx := benchLogContext()
			plan, err := s.srv.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{
				TypeName: "nimbus_service", PriorState: s.state, ProposedNewState: proposed, Config: cfg,
			})
			benchCheck(b, "plan update", err, plan.Diagnostics)
			applied, err := s.srv.ApplyResourceChange(benchLogContext(), &tfprotov6.ApplyResourceChangeRequest{
				TypeName: "nimbus_service", PriorState: s.state, PlannedState: plan.PlannedState, Config: cfg,
				PlannedPrivate: plan.PlannedPrivate,
			})
			benchCheck(b, "apply update", err, applied.Diagnostics)
			s.state = applied.NewState
		}
	})
}
