# What `make demo` lists at the end with `terraform query` (Terraform 1.14+):
# every service labelled stack=demo, found through the API whether or not
# this configuration manages it.
list "nimbus_service" "demo" {
  provider = nimbus

  config {
    label_key   = "stack"
    label_value = "demo"
  }
}
