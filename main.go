// Command terraform-provider-nimbus is the Terraform/OpenTofu provider for
// Nimbus and, as the `server` sub-command, the Nimbus server itself.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/nimbus/terraform-provider-nimbus/internal/provider"
	"github.com/nimbus/terraform-provider-nimbus/internal/sdklog"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/command"
)

// version and commit are set at build time:
// go build -ldflags "-X main.version=1.2.3 -X main.commit=0123abc" (make
// build and the release do). --version prints the version; -h both.
var (
	version = "dev"
	commit  = "none"
)

// providerAddress is the provider's registry address.
const providerAddress = "registry.terraform.io/nimbus/nimbus"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "server" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := command.Main(ctx, os.Args[2:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(servePlugin(os.Args[1:]))
}

// servePlugin serves the provider over the plugin protocol (or prints the
// version). It returns the process exit code.
func servePlugin(args []string) int {
	fs := flag.NewFlagSet("terraform-provider-nimbus", flag.ContinueOnError)
	debug := fs.Bool("debug", false, "run the provider with support for debuggers like delve; prints TF_REATTACH_PROVIDERS to set")
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "terraform-provider-nimbus %s (commit %s)\n\n", version, commit)
		fmt.Fprintf(fs.Output(), "Usage: %s [-debug] [--version]\n       %s server [flags]   (run the Nimbus server; see `server -h`)\n\n",
			os.Args[0], os.Args[0])
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *showVersion {
		fmt.Println(version)
		return 0
	}
	// With no TF_LOG* variable set nobody reads the SDK's trace lines or the
	// provider's own:
	// don't format them (see internal/sdklog).
	if err := sdklog.QuietUnlessSet(); err != nil {
		log.Println(err.Error())
		return 1
	}
	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address:         providerAddress,
		Debug:           *debug,
		ProtocolVersion: 6,
	})
	if err != nil {
		log.Println(err.Error())
		return 1
	}
	return 0
}
