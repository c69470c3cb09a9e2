"""Watch (veille): advisories from feeds, matched to the inventory, ranked and delivered.

``tocsin.watch.match`` is the pure matching engine; sources, priority, bulletins and the
service that persists and notifies live beside it (see DESIGN.md).
"""
