# Open sessions (the default). Run with `terraform query` (Terraform 1.14+).
list "nimbus_session" "open" {
  provider         = nimbus
  include_resource = true
}

# Sessions in every state, at most 20.
list "nimbus_session" "recent" {
  provider = nimbus
  limit    = 20

  config {
    state = "all"
  }
}
