"""The ``tocsin`` command line: one module per command group."""
