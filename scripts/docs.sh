#!/usr/bin/env bash
# Regenerates docs/ from templates/, examples/ and the provider's schema, fully
# offline, then validates it with tfplugindocs.
#
#   scripts/docs.sh generate   rewrite docs/ (make docs)
#   scripts/docs.sh check      regenerate and fail when docs/ differs from git (make docs-check)
#
# tfplugindocs would otherwise look for (and try to download) a Terraform CLI;
# instead the schema comes from the locally built newest Terraform
# (bin/terraform-1.16: OpenTofu's schema output has no actions or list
# resources): the provider is built into a plugin directory,
# `terraform init -plugin-dir` installs it and `terraform providers schema
# -json` dumps it for `tfplugindocs --providers-schema`.
set -euo pipefail

mode="${1:-generate}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

# make exports the version; run by hand, read it from tools/versions.mk.
tfver="${TERRAFORM_NEW_VERSION:-$(sed -n 's/^TERRAFORM_NEW_VERSION *:= *//p' tools/versions.mk)}"
terraform="$root/bin/terraform-${tfver%.*}"
[[ -x "$terraform" ]] || { echo "bin/${terraform##*/} is missing: run make tools" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/nimbus-docs.XXXXXX")"
trap 'rm -rf "$work"' EXIT

export CHECKPOINT_DISABLE=1
export TF_CLI_CONFIG_FILE="$work/empty.tfrc"
: >"$TF_CLI_CONFIG_FILE"
unset TF_PLUGIN_CACHE_DIR

# The schema does not depend on the version; a fixed one keeps the plugin path stable.
platform="$(go env GOOS)_$(go env GOARCH)"
plugin="$work/plugins/registry.terraform.io/hashicorp/nimbus/0.0.1/$platform"
mkdir -p "$plugin" "$work/cfg"
echo "==> building the provider for its schema"
go build -o "$plugin/terraform-provider-nimbus" .

cat >"$work/cfg/main.tf" <<'HCL'
terraform {
  required_providers {
    nimbus = {
      source = "registry.terraform.io/hashicorp/nimbus"
    }
  }
}
HCL
(cd "$work/cfg" && "$terraform" init -input=false -no-color -plugin-dir="$work/plugins" >"$work/init.log" 2>&1) || {
	cat "$work/init.log" >&2
	echo "${terraform##*/} init with the locally built provider failed" >&2
	exit 1
}
(cd "$work/cfg" && "$terraform" providers schema -json) >"$work/schema.json"

echo "==> tfplugindocs generate"
go tool tfplugindocs generate --provider-name nimbus --rendered-provider-name Nimbus --providers-schema "$work/schema.json"
echo "==> tfplugindocs validate"
go tool tfplugindocs validate --provider-name nimbus --providers-schema "$work/schema.json"

if [[ "$mode" == check ]]; then
	status="$(git status --porcelain --untracked-files=all -- docs)"
	if [[ -n "$status" ]]; then
		git --no-pager diff --stat -- docs >&2 || true
		echo "$status" >&2
		echo "docs/ is stale: run 'make docs' and commit the result" >&2
		exit 1
	fi
	echo "docs/ is up to date"
fi
