"""Tocsin: cyber watch and resilience platform for healthcare organisations."""

__version__ = "0.1.0"
