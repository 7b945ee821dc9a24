"""Validation tools run as `nbnumba <tool>`: `trace-diff` (C vs port traces) and `compare` (C vs port images)."""
