"""The dashboard (server-rendered pages) and the JSON API; see docs/web.md.

Build the ASGI application with :func:`tocsin.web.app.create_app`.
"""
