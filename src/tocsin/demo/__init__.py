"""The demo establishment: a fictional French centre hospitalier with ~300 assets.

``run_demo`` creates it (or refreshes it) with the demo admin account; the tables it is
built from are data, under ``tocsin/data/demo`` (see :mod:`tocsin.demo.catalogue`).
"""

from tocsin.demo.service import DemoResult, run_demo

__all__ = ["DemoResult", "run_demo"]
