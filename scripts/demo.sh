#!/usr/bin/env bash
# The demo: builds the provider, starts a local Nimbus server on the embedded
# store and applies examples/demo with Terraform, all under .demo/ (git-ignored).
#
#   scripts/demo.sh up      (make demo)        build, start the server, apply, print a summary
#   scripts/demo.sh stop    (make demo-stop)   stop the server, keep its data and the Terraform state
#   scripts/demo.sh clean   (make demo-clean)  destroy the stack, stop the server, remove .demo/
#
# Nothing outside the repository is touched: Terraform runs with a CLI
# configuration written here (a filesystem mirror holding the provider), not
# with ~/.terraformrc or dev_overrides.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

demo="$root/.demo"
work="$demo/work"            # Terraform working directory (copy of examples/demo + state)
data="$demo/data"            # the server's bbolt data directory
mirror="$demo/providers"     # filesystem mirror with the freshly built provider
pidfile="$demo/server.pid"
logfile="$demo/server.log"
tokenfile="$demo/token"
portfile="$demo/port"
cliconfig="$demo/terraformrc"

version="0.1.0"              # the provider version the mirror offers
tenant="demo"
port="${NIMBUS_DEMO_PORT:-}"
terraform="$root/bin/terraform"
binary="$demo/terraform-provider-nimbus"

bold() { if [[ -t 1 ]]; then printf '\033[1m%s\033[0m\n' "$*"; else printf '%s\n' "$*"; fi; }
step() { bold "==> $*"; }
die() { echo "demo: $*" >&2; exit 1; }

server_running() {
	[[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

endpoint() { echo "http://127.0.0.1:$(cat "$portfile")"; }

# port_free PORT succeeds when nothing accepts connections on 127.0.0.1:PORT.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

stop_server() {
	if server_running; then
		local pid
		pid="$(cat "$pidfile")"
		step "stopping the Nimbus server (pid $pid)"
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "the server did not stop within 10 s; sending SIGKILL" >&2
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$pidfile"
}

start_server() {
	mkdir -p "$data"
	chmod 700 "$demo"
	if [[ ! -s "$tokenfile" ]]; then
		(umask 077 && od -An -tx1 -N24 /dev/urandom | tr -d ' \n' >"$tokenfile")
	fi
	if [[ -z "$port" ]]; then
		port="$(cat "$portfile" 2>/dev/null || true)"
		if [[ -z "$port" ]] || ! port_free "$port"; then
			port=""
			for p in $(seq 18080 18180); do
				if port_free "$p"; then port="$p"; break; fi
			done
			[[ -n "$port" ]] || die "no free port in 18080-18180; set NIMBUS_DEMO_PORT"
		fi
	fi
	port_free "$port" || die "127.0.0.1:$port is in use; set NIMBUS_DEMO_PORT to a free port"
	echo "$port" >"$portfile"

	step "starting the Nimbus server on $(endpoint) (data in .demo/data, log in .demo/server.log)"
	# The token is passed through the environment so it does not show in `ps`.
	NIMBUS_SERVER_TOKEN="$(cat "$tokenfile")" nohup "$binary" server \
		--listen "127.0.0.1:$port" \
		--data-dir "$data" \
		--tenants "$tenant" \
		--log-level info \
		>>"$logfile" 2>&1 </dev/null &
	echo $! >"$pidfile"

	for _ in $(seq 1 100); do
		if ! server_running; then
			tail -n 20 "$logfile" >&2
			die "the server exited; see .demo/server.log"
		fi
		if curl -fsS -o /dev/null "$(endpoint)/healthz" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	tail -n 20 "$logfile" >&2
	die "the server did not answer $(endpoint)/healthz within 10 s; see .demo/server.log"
}

write_cli_config() {
	local platform dir
	platform="$(go env GOOS)_$(go env GOARCH)"
	for host in registry.terraform.io registry.opentofu.org; do
		dir="$mirror/$host/nimbus/nimbus/$version/$platform"
		mkdir -p "$dir"
		cp "$binary" "$dir/terraform-provider-nimbus_v$version"
	done
	cat >"$cliconfig" <<EOF
# Written by scripts/demo.sh: install nimbus/nimbus from the local mirror,
# everything else as usual.
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["nimbus/nimbus"]
  }
  direct {
    exclude = ["nimbus/nimbus"]
  }
}
EOF
}

tf() {
	TF_CLI_CONFIG_FILE="$cliconfig" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 \
		NIMBUS_ENDPOINT="$(endpoint)" NIMBUS_TOKEN="$(cat "$tokenfile")" NIMBUS_TENANT_ID="$tenant" \
		"$terraform" -chdir="$work" "$@"
}

up() {
	step "installing Terraform into bin/ if needed"
	make --no-print-directory tools TOOLS=terraform

	step "building the provider"
	mkdir -p "$demo"
	go build -trimpath -ldflags "-X main.version=$version" -o "$binary.new" .
	mv -f "$binary.new" "$binary"

	# A rebuilt binary must be served by a restarted server; services it was
	# running come back on their own after the restart.
	stop_server
	start_server
	write_cli_config

	step "terraform init + apply of examples/demo"
	mkdir -p "$work"
	find "$work" -maxdepth 1 -name '*.tf' -delete
	cp examples/demo/*.tf "$work/"
	# The provider binary changes between runs; re-resolve it from the mirror.
	rm -rf "$work/.terraform/providers" "$work/.terraform.lock.hcl"
	tf init -input=false -no-color >"$demo/init.log" 2>&1 || { cat "$demo/init.log" >&2; die "terraform init failed"; }
	tf apply -input=false -auto-approve -var "nimbus_endpoint=$(endpoint)"

	summary
}

summary() {
	echo
	step "demo stack applied"
	tf output
	echo
	bold "The Nimbus server keeps running in the background (pid $(cat "$pidfile")). To use it yourself:"
	cat <<EOF
  export NIMBUS_ENDPOINT=$(endpoint)
  export NIMBUS_TENANT_ID=$tenant
  export NIMBUS_TOKEN=\$(cat .demo/token)
  TF_CLI_CONFIG_FILE=.demo/terraformrc bin/terraform -chdir=.demo/work plan    # expect: no changes

  make demo         # run again (rebuilds, restarts the server, re-applies)
  make demo-stop    # stop the server, keep its data and the Terraform state
  make demo-clean   # destroy the stack, stop the server and remove .demo/
EOF
}

clean() {
	if [[ -d "$work" && -f "$work/terraform.tfstate" && -x "$binary" && -s "$tokenfile" ]]; then
		server_running || start_server
		write_cli_config
		step "terraform destroy"
		if ! tf destroy -input=false -auto-approve -var "nimbus_endpoint=$(endpoint)"; then
			echo "terraform destroy failed; removing .demo/ anyway (the server's data goes with it)" >&2
		fi
	fi
	stop_server
	step "removing .demo/"
	rm -rf "$demo"
}

case "${1:-up}" in
up) up ;;
stop) stop_server ;;
clean) clean ;;
*) die "usage: $0 up|stop|clean" ;;
esac
