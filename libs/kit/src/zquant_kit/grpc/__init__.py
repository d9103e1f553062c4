"""gRPC adapters of the kit: status mapping, the server interceptor, server bootstrap, client helpers."""
