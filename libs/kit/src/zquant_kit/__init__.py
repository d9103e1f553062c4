"""Shared plumbing for every zquant service: one copy, used by all five."""
