# Import a service of the provider's tenant by name:
terraform import nimbus_service.web web

# or of another tenant as TENANT/NAME:
terraform import nimbus_service.web acme/web

# The API never returns a sandbox backend's argv and environment or an
# external backend's bearer token, so they cannot be imported: after import,
# keep them in the configuration and the next apply sends them again. When
# they equal what the service already runs, nothing changes; when they
# differ, it is a backend change and a running service rolls onto it.
# restart_triggers are not imported either; the first apply after an import
# records them without restarting the service.
