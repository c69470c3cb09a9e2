"""The dashboard's routes, one module per area; the API lives in :mod:`.api`."""
