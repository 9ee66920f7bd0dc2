# Import an open session by id (provider's default tenant) or by tenant/id.
terraform import nimbus_session.debug ses-0123456789abcdef
terraform import nimbus_session.debug acme/ses-0123456789abcdef
