# The one place where the versions of the build and test tools are pinned.
# `make tools` installs each into bin/ (git-ignored) when it is missing or of
# another version. Everything comes from the Go module proxy; nothing is
# downloaded from release sites.
TERRAFORM_VERSION      := 1.8.5
OPENTOFU_VERSION       := 1.12.6
GOLANGCI_LINT_VERSION  := 2.15.0
GORELEASER_VERSION     := 2.16.0
