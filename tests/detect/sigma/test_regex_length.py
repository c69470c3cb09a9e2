"""The length bound put before long regular expressions: never above a real match."""

from __future__ import annotations

import re

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SHARED_DATA
from tocsin.detect.sigma.backend import min_match_length


@pytest.mark.parametrize(
    ("regex", "expected"),
    [
        (".{1000,}", 1000),
        ("(?i)abc|de", 2),
        ("^.{20}$", 20),
        ("a(bc)?d{3,5}", 4),
        ("[[:alpha:]]{40}", 0),  # one character to RE2, two to Python: unsure
        (r"\p{L}{40}", 0),  # not Python's syntax
        (r"\Qabc\E{40}", 0),
        ("(unbalanced", 0),
        ("", 0),
    ],
)
def test_min_match_length(regex: str, expected: int) -> None:
    assert min_match_length(regex) == expected


def _sigma_regexes() -> list[str]:
    """Every ``|re`` value of the SigmaHQ Windows rules in the shared data (or a few)."""
    folder = SHARED_DATA / "detect" / "sigma" / "rules" / "windows"
    found: set[str] = set()
    if folder.is_dir():
        for path in folder.rglob("*.yml"):
            text = path.read_text(encoding="utf-8")
            if "|re" not in text:
                continue
            for doc in yaml.safe_load_all(text):
                _collect(doc.get("detection") if isinstance(doc, dict) else None, found)
    found |= {".{1000,}", "[A-Za-z0-9+/]{50,}={0,2}", r"\\\\[a-z]{3,}\\\\(x|y)"}
    return sorted(r for r in found if _compiles(r))


def _collect(node: object, found: set[str], regex: bool = False) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _collect(value, found, isinstance(key, str) and "|re" in key)
    elif isinstance(node, list):
        for item in node:
            _collect(item, found, regex)
    elif regex and isinstance(node, str):
        found.add(node)


def _compiles(regex: str) -> bool:
    try:
        re.compile(regex)
    except re.error:
        return False
    return True


REGEXES = _sigma_regexes()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_no_text_a_regex_matches_is_shorter_than_its_bound(data: st.DataObject) -> None:
    regex = data.draw(st.sampled_from(REGEXES))
    text = data.draw(st.from_regex(regex, fullmatch=False))
    if re.search(regex, text):
        assert len(text) >= min_match_length(regex), (regex, text)
