"""Sandbox adapter: runs one user's strategy in a separate, locked-down child process.

Kept import-free on purpose: the child imports `child.*` through this package and must not pull
in the parent's side (the engine's domain, numba kernels, the launcher).
"""
