#!/usr/bin/env bash
# The demo: builds the provider, starts a local Nimbus server on the embedded
# store and applies examples/demo with the newest Terraform (bin/terraform-1.16),
# all under .demo/ (git-ignored).
#
#   scripts/demo.sh up      (make demo)        build, start the servers, apply, print a summary and
#                                              a `terraform query` listing of the demo's services
#   scripts/demo.sh stop    (make demo-stop)   stop the servers, keep their data and the Terraform state
#   scripts/demo.sh clean   (make demo-clean)  destroy the stack, stop the servers, remove .demo/
#
# Nothing outside the repository is touched: Terraform runs with a CLI
# configuration written here (a filesystem mirror holding the provider), not
# with ~/.terraformrc or dev_overrides.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

demo="$root/.demo"
work="$demo/work"            # Terraform working directory: a copy of examples/demo, and the state
data="$demo/data"            # the Nimbus server's bbolt data directory
mirror="$demo/providers"     # filesystem mirror holding the freshly built provider
cliconfig="$demo/terraformrc"
binary="$demo/terraform-provider-nimbus"
pidfile="$demo/server.pid"
logfile="$demo/server.log"
tokenfile="$demo/token"
serverconfig="$demo/server.json"
portfile="$demo/server.port"
upstream_bin="$demo/demoupstream"
upstream_pid="$demo/upstream.pid"
upstream_log="$demo/upstream.log"
upstream_portfile="$demo/upstream.port"

version="0.1.0"              # the provider version the mirror offers
tenant="demo"
# The newest Terraform the repository pins (tools/versions.mk): bin/terraform-1.16.
tfver="${TERRAFORM_NEW_VERSION:-$(sed -n 's/^TERRAFORM_NEW_VERSION *:= *//p' "$root/tools/versions.mk")}"
tfname="terraform-${tfver%.*}"
terraform="$root/bin/$tfname"

bold() { if [[ -t 1 ]]; then printf '\033[1m%s\033[0m\n' "$*"; else printf '%s\n' "$*"; fi; }
step() { bold "==> $*"; }
die() { echo "demo: $*" >&2; exit 1; }

running() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# port_free PORT succeeds when nothing accepts connections on 127.0.0.1:PORT.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pick_port PORTFILE FIRST LAST prints the port recorded in PORTFILE when it
# is still free, else the first free port in FIRST..LAST.
pick_port() {
	local p
	p="$(cat "$1" 2>/dev/null || true)"
	if [[ -n "$p" ]] && port_free "$p"; then echo "$p"; return 0; fi
	for p in $(seq "$2" "$3"); do
		if port_free "$p"; then echo "$p"; return 0; fi
	done
	return 1
}

# wait_port NAME PIDFILE LOG PORT waits until the process listens on PORT.
wait_port() {
	for _ in $(seq 1 150); do
		running "$2" || { tail -n 20 "$3" >&2; die "the $1 exited; see ${3#"$root"/}"; }
		port_free "$4" || return 0
		sleep 0.1
	done
	tail -n 20 "$3" >&2
	die "the $1 did not listen on 127.0.0.1:$4 within 15 s; see ${3#"$root"/}"
}

# stop_pid NAME PIDFILE stops the process its pid file names (SIGTERM, then
# SIGKILL after 15 s) and removes the pid file.
stop_pid() {
	if running "$2"; then
		local pid
		pid="$(cat "$2")"
		step "stopping the $1 (pid $pid)"
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 150); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "the $1 did not stop within 15 s; sending SIGKILL" >&2
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$2"
}

endpoint() { echo "http://127.0.0.1:$(cat "$portfile")"; }
upstream_url() { echo "http://127.0.0.1:$(cat "$upstream_portfile")"; }

# The "search" service of the demo: a real HTTP endpoint on loopback that the
# Nimbus server health-checks as an external service.
start_upstream() {
	running "$upstream_pid" && return 0
	local port
	port="$(pick_port "$upstream_portfile" 18181 18280)" || die "no free port in 18181-18280 for the demo upstream"
	echo "$port" >"$upstream_portfile"
	step "starting the demo's search upstream on $(upstream_url) (health endpoint /healthz)"
	nohup "$upstream_bin" -listen "127.0.0.1:$port" >>"$upstream_log" 2>&1 </dev/null &
	echo $! >"$upstream_pid"
	wait_port "demo upstream" "$upstream_pid" "$upstream_log" "$port"
}

start_server() {
	mkdir -p "$data"
	if [[ ! -s "$tokenfile" ]]; then
		(umask 077 && od -An -tx1 -N24 /dev/urandom | tr -d ' \n' >"$tokenfile")
	fi
	# The token goes into an auth config file only you can read, so it never
	# shows in `ps`.
	(
		umask 077
		printf '{\n  "tenants": ["%s"],\n  "tokens": [{"name": "demo", "secret": "%s", "tenants": ["%s"]}]\n}\n' \
			"$tenant" "$(cat "$tokenfile")" "$tenant" >"$serverconfig"
	)
	local port="${NIMBUS_DEMO_PORT:-}"
	if [[ -z "$port" ]]; then
		port="$(pick_port "$portfile" 18080 18179)" || die "no free port in 18080-18179; set NIMBUS_DEMO_PORT"
	fi
	port_free "$port" || die "127.0.0.1:$port is in use; set NIMBUS_DEMO_PORT to a free port"
	echo "$port" >"$portfile"

	step "starting the Nimbus server on $(endpoint) (store in .demo/data, log in .demo/server.log)"
	nohup "$binary" server \
		--listen "127.0.0.1:$port" \
		--data-dir "$data" \
		--config "$serverconfig" \
		--health-interval 1s \
		--log-level info \
		>>"$logfile" 2>&1 </dev/null &
	echo $! >"$pidfile"
	wait_port "Nimbus server" "$pidfile" "$logfile" "$port"
}

stop_all() {
	stop_pid "Nimbus server" "$pidfile"
	stop_pid "demo upstream" "$upstream_pid"
}

write_cli_config() {
	local platform dir host
	platform="$(go env GOOS)_$(go env GOARCH)"
	for host in registry.terraform.io registry.opentofu.org; do
		dir="$mirror/$host/nimbus/nimbus/$version/$platform"
		mkdir -p "$dir"
		cp "$binary" "$dir/terraform-provider-nimbus_v$version"
	done
	cat >"$cliconfig" <<EOF
# Written by scripts/demo.sh: nimbus/nimbus comes from the local filesystem
# mirror, every other provider from its registry as usual.
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

color=()
[[ -t 1 ]] || color=(-no-color)

tf() {
	TF_CLI_CONFIG_FILE="$cliconfig" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 \
		NIMBUS_ENDPOINT="$(endpoint)" NIMBUS_TOKEN="$(cat "$tokenfile")" NIMBUS_TENANT_ID="$tenant" \
		"$terraform" -chdir="$work" "$@"
}

up() {
	step "installing Terraform $tfver into bin/$tfname if needed"
	make --no-print-directory tools TOOLS="$tfname"

	step "building the provider and the demo upstream"
	mkdir -p "$demo"
	chmod 700 "$demo"
	go build -trimpath -ldflags "-X main.version=$version" -o "$binary.new" .
	go build -o "$upstream_bin.new" ./tools/demoupstream

	# A rebuilt binary must be served by a restarted server; the services it
	# was running come back on their own after the restart.
	stop_all
	mv -f "$binary.new" "$binary"
	mv -f "$upstream_bin.new" "$upstream_bin"
	start_upstream
	start_server
	write_cli_config

	step "terraform init + apply of examples/demo (in .demo/work)"
	mkdir -p "$work"
	find "$work" -maxdepth 1 \( -name '*.tf' -o -name '*.tfquery.hcl' \) -delete
	cp examples/demo/*.tf examples/demo/*.tfquery.hcl "$work/"
	printf '# Written by scripts/demo.sh\nsearch_url = "%s"\n' "$(upstream_url)" >"$work/demo.auto.tfvars"
	# The provider binary changes between runs: resolve it afresh from the mirror.
	rm -rf "$work/.terraform/providers" "$work/.terraform.lock.hcl"
	tf init -input=false -no-color >"$demo/init.log" 2>&1 || { cat "$demo/init.log" >&2; die "terraform init failed"; }
	tf apply "${color[@]}" -input=false -auto-approve

	summary
	query
}

# query lists the demo's services with `terraform query`
# (examples/demo/services.tfquery.hcl): what the API returns for the label
# stack=demo, as list results Terraform could import.
query() {
	echo
	step "terraform query: the services labelled stack=demo (examples/demo/services.tfquery.hcl)"
	tf query "${color[@]}"
}

summary() {
	echo
	step "the demo stack is applied"
	tf output -raw summary
	echo
	echo
	bold "The Nimbus server (pid $(cat "$pidfile")) and the search upstream keep running in the background."
	cat <<EOF
To look around with your own terraform and the API:

  export NIMBUS_ENDPOINT=$(endpoint) NIMBUS_TENANT_ID=$tenant NIMBUS_TOKEN=\$(cat .demo/token)
  TF_CLI_CONFIG_FILE=.demo/terraformrc bin/$tfname -chdir=.demo/work plan    # no changes
  TF_CLI_CONFIG_FILE=.demo/terraformrc bin/$tfname -chdir=.demo/work query   # the listing below
  curl -s -H "Authorization: Bearer \$NIMBUS_TOKEN" \$NIMBUS_ENDPOINT/v1/tenants/$tenant/services

  make demo         # run it again: rebuilds, restarts the servers (services come back), re-applies
  make demo-stop    # stop both servers, keep their data and the Terraform state
  make demo-clean   # destroy the stack, stop both servers and remove .demo/
EOF
}

clean() {
	if [[ -f "$work/terraform.tfstate" && -x "$binary" && -x "$upstream_bin" && -s "$tokenfile" ]]; then
		start_upstream
		running "$pidfile" || start_server
		write_cli_config
		step "terraform destroy"
		printf '# Written by scripts/demo.sh\nsearch_url = "%s"\n' "$(upstream_url)" >"$work/demo.auto.tfvars"
		if ! tf destroy "${color[@]}" -input=false -auto-approve; then
			echo "terraform destroy failed; removing .demo/ anyway (the server's data goes with it)" >&2
		fi
	fi
	stop_all
	step "removing .demo/"
	rm -rf "$demo"
}

case "${1:-up}" in
up) up ;;
stop) stop_all ;;
clean) clean ;;
*) die "usage: $0 up|stop|clean" ;;
esac
