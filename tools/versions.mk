# The one place where the versions of the build and test tools are pinned.
# `make tools` installs each into bin/ (git-ignored) when it is missing or of
# another version. Everything comes from the Go module proxy; nothing is
# downloaded from release sites.
# Terraform twice: the oldest supported (bin/terraform) and the newest
# (bin/terraform-<major.minor>, so bin/terraform-1.16, built from the wrapper
# module tools/terraform, whose go.mod must require the same version).
TERRAFORM_VERSION      := 1.8.5
TERRAFORM_NEW_VERSION  := 1.16.4
OPENTOFU_VERSION       := 1.12.6
GOLANGCI_LINT_VERSION  := 2.15.0
GORELEASER_VERSION     := 2.16.0
