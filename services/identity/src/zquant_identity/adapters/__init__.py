"""Identity adapters: SQLAlchemy persistence, gRPC inbound, argon2/EdDSA security."""
