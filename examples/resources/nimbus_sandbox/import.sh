# Import a standalone sandbox by id (provider's default tenant) or by tenant/id.
# argv and environment cannot be recovered (the API redacts them): write them
# into the configuration; when their counts match the server's, the next apply
# adopts them without replacing the sandbox.
terraform import nimbus_sandbox.job sbx-0123456789abcdef
terraform import nimbus_sandbox.job acme/sbx-0123456789abcdef
