"""Sigma rules: load (loader), choose (select), compile to SQL (backend, compile)."""
