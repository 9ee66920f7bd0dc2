#!/usr/bin/env bash
# Installs the pinned build and test tools into bin/ (git-ignored), each only
# when it is missing or of another version. Called by `make tools`, which
# passes the versions from tools/versions.mk. Everything is built from the Go
# module proxy; nothing is downloaded from release sites.
#
#   scripts/install-tools.sh                 all five tools
#   scripts/install-tools.sh terraform tofu  only those (make tools TOOLS="terraform tofu")
#
# The tools: terraform (the oldest Terraform supported), terraform-1.16 (the
# newest; the name follows TERRAFORM_NEW_VERSION's major.minor), tofu,
# golangci-lint, goreleaser.
set -euo pipefail

: "${TERRAFORM_VERSION:?run through make tools}"
: "${TERRAFORM_NEW_VERSION:?run through make tools}"
: "${OPENTOFU_VERSION:?run through make tools}"
: "${GOLANGCI_LINT_VERSION:?run through make tools}"
: "${GORELEASER_VERSION:?run through make tools}"

tfnew="terraform-${TERRAFORM_NEW_VERSION%.*}" # terraform-1.16
all=(terraform "$tfnew" tofu golangci-lint goreleaser)
want=("$@")
[[ ${#want[@]} -gt 0 ]] || want=("${all[@]}")
for w in "${want[@]}"; do
	[[ " ${all[*]} " == *" $w "* ]] || { echo "unknown tool '$w'; choose from: ${all[*]}" >&2; exit 2; }
done
wanted() { [[ " ${want[*]} " == *" $1 "* ]]; }

root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/bin"
mkdir -p "$bin"

# No CLI may look for a newer version, and all must ignore whatever CLI
# configuration the machine points at.
export CHECKPOINT_DISABLE=1
cfg="$bin/empty.tfrc"
: >"$cfg"
export TF_CLI_CONFIG_FILE="$cfg"

say() { printf '==> %s\n' "$*" >&2; }

# cli_version BINARY prints the version a Terraform-style CLI reports
# ("Terraform v1.8.5" / "OpenTofu v1.12.6" on its first line).
cli_version() {
	[[ -x "$1" ]] || return 0
	{ "$1" version 2>/dev/null || true; } | head -n1 | awk '{print $2}' | sed 's/^v//'
}

# mod_version BINARY MODULE prints the version of MODULE a Go binary was built
# from, read from its embedded build information.
mod_version() {
	[[ -x "$1" ]] || return 0
	{ go version -m "$1" 2>/dev/null || true; } | awk -v m="$2" '($1 == "mod" || $1 == "dep") && $2 == m {print $3; exit}'
}

have="$(cli_version "$bin/terraform")"
if wanted terraform && [[ "$have" != "$TERRAFORM_VERSION" ]]; then
	say "installing Terraform $TERRAFORM_VERSION into bin/ (have: ${have:-none}; a cold build takes a few minutes)"
	rm -f "$bin/terraform" # go install refuses to overwrite a file that is not a Go binary
	GOBIN="$bin" go install \
		-ldflags "-X github.com/hashicorp/terraform/version.dev=no" \
		"github.com/hashicorp/terraform@v$TERRAFORM_VERSION"
fi

# Terraform 1.13+ refuses `go install` (its go.mod replaces modules with
# directories the module zip leaves out): tools/terraform is a wrapper module
# with stubs for the remote-state backends that are not on the proxy.
have="$(cli_version "$bin/$tfnew")"
if wanted "$tfnew" && [[ "$have" != "$TERRAFORM_NEW_VERSION" ]]; then
	pinned="$(cd "$root/tools/terraform" && go list -m -f '{{.Version}}' github.com/hashicorp/terraform)"
	if [[ "$pinned" != "v$TERRAFORM_NEW_VERSION" ]]; then
		echo "tools/terraform/go.mod requires Terraform $pinned but tools/versions.mk pins v$TERRAFORM_NEW_VERSION; update one of them (and the stubs' go.mod files under tools/terraform/backends)" >&2
		exit 1
	fi
	say "building Terraform $TERRAFORM_NEW_VERSION into bin/$tfnew from tools/terraform (have: ${have:-none}; a cold build takes a few minutes)"
	# Built aside and moved into place, so a run using bin/ never sees half a binary.
	(cd "$root/tools/terraform" && go build -trimpath \
		-ldflags "-X github.com/hashicorp/terraform/version.dev=no" \
		-o "$bin/$tfnew.tmp" github.com/hashicorp/terraform)
	mv -f "$bin/$tfnew.tmp" "$bin/$tfnew"
fi

have="$(cli_version "$bin/tofu")"
if wanted tofu && [[ "$have" != "$OPENTOFU_VERSION" ]]; then
	pinned="$(cd "$root/tools/tofu" && go list -m -f '{{.Version}}' github.com/opentofu/opentofu)"
	if [[ "$pinned" != "v$OPENTOFU_VERSION" ]]; then
		echo "tools/tofu/go.mod requires OpenTofu $pinned but tools/versions.mk pins v$OPENTOFU_VERSION; update one of them" >&2
		exit 1
	fi
	say "building OpenTofu $OPENTOFU_VERSION into bin/ from tools/tofu (have: ${have:-none}; a cold build takes a few minutes)"
	rm -f "$bin/tofu"
	(cd "$root/tools/tofu" && go build \
		-ldflags "-X github.com/opentofu/opentofu/version.dev=no" \
		-o "$bin/tofu" github.com/opentofu/opentofu/cmd/tofu)
fi

have="$(mod_version "$bin/golangci-lint" github.com/golangci/golangci-lint/v2)"
if wanted golangci-lint && [[ "$have" != "v$GOLANGCI_LINT_VERSION" ]]; then
	say "installing golangci-lint v$GOLANGCI_LINT_VERSION into bin/ (have: ${have:-none})"
	rm -f "$bin/golangci-lint"
	GOBIN="$bin" go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v$GOLANGCI_LINT_VERSION"
fi

have="$(mod_version "$bin/goreleaser" github.com/goreleaser/goreleaser/v2)"
if wanted goreleaser && [[ "$have" != "v$GORELEASER_VERSION" ]]; then
	say "installing goreleaser v$GORELEASER_VERSION into bin/ (have: ${have:-none})"
	rm -f "$bin/goreleaser"
	GOBIN="$bin" go install "github.com/goreleaser/goreleaser/v2@v$GORELEASER_VERSION"
fi

# Prove what is installed; a mismatch here is a bug in this script.
fail=0
check() {
	if wanted "$1" && [[ "$2" != "$3" ]]; then
		echo "bin/$1 reports version '$2', want '$3'" >&2
		fail=1
	fi
}
check terraform "$(cli_version "$bin/terraform")" "$TERRAFORM_VERSION"
check "$tfnew" "$(cli_version "$bin/$tfnew")" "$TERRAFORM_NEW_VERSION"
check tofu "$(cli_version "$bin/tofu")" "$OPENTOFU_VERSION"
check golangci-lint "$(mod_version "$bin/golangci-lint" github.com/golangci/golangci-lint/v2)" "v$GOLANGCI_LINT_VERSION"
check goreleaser "$(mod_version "$bin/goreleaser" github.com/goreleaser/goreleaser/v2)" "v$GORELEASER_VERSION"
exit "$fail"
