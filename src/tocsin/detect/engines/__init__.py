"""Engines run compiled Sigma rules over the Parquet event store (DuckDB; Spark later)."""
