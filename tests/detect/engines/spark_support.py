"""One local SparkSession for every Spark test of the run (a plain module, not a conftest.py).

Starting Spark costs seconds, so the session is session-scoped, with one worker thread per
core and few shuffle partitions; the engine reuses a session already active in the process.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("pyspark")

from pyspark.sql import SparkSession  # noqa: E402

from tocsin.detect.engines.spark import local_session  # noqa: E402


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    session = local_session("local[2]", shuffle_partitions=2)
    yield session
    session.stop()
