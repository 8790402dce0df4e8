"""OCPP 1.6 spec data: actions, enumerations, schemas, configuration keys. No behaviour."""
