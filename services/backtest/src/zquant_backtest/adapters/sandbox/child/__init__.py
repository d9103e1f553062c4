"""Code that runs inside the sandboxed child process (stdlib, numpy, pandas, msgpack only)."""
