"""The feeds Tocsin fetches (data), and how each kind of feed is fetched (its plan).

The feed list (``[[feed]]`` tables: the bundled ``tocsin/data/feeds.toml`` and the user's
file) is :mod:`tocsin.watch.feed_list`; the plans that turn a feed into the raw documents
its source parses, lazily and all or nothing, are :mod:`tocsin.watch.feed_plans`. This
module gathers their public names, the import path the rest of Tocsin uses.
docs/sources.md describes both.
"""

from __future__ import annotations

from tocsin.watch.feed_list import (
    BUNDLED_FEEDS,
    NVD_API_KEY_ENV,
    URL_LIST_KINDS,
    Feed,
    load_feeds,
    nvd_api_key,
)
from tocsin.watch.feed_plans import (
    CERTFR_KINDS,
    NVD_MAX_WINDOW,
    NVD_PAGE_SIZE,
    NVD_RATE_WINDOW,
    NVD_REQUESTS_WITH_KEY,
    NVD_REQUESTS_WITHOUT_KEY,
    OVERLAP,
    PLANS,
    FeedRun,
    Plan,
    certfr_json_url,
    nvd_date,
    nvd_windows,
    parse_changes_csv,
    plan,
)

__all__ = [
    "BUNDLED_FEEDS",
    "CERTFR_KINDS",
    "NVD_API_KEY_ENV",
    "NVD_MAX_WINDOW",
    "NVD_PAGE_SIZE",
    "NVD_RATE_WINDOW",
    "NVD_REQUESTS_WITHOUT_KEY",
    "NVD_REQUESTS_WITH_KEY",
    "OVERLAP",
    "PLANS",
    "URL_LIST_KINDS",
    "Feed",
    "FeedRun",
    "Plan",
    "certfr_json_url",
    "load_feeds",
    "nvd_api_key",
    "nvd_date",
    "nvd_windows",
    "parse_changes_csv",
    "plan",
]
