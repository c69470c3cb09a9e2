"""EVTX on real files: the attack samples, and regression_data against its .json renderings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import shared_data
from tocsin.detect.ingest.base import ReadContext
from tocsin.detect.ingest.evtx import EvtxFormat, normalise
from tocsin.detect.ingest.model import Event, IngestWarning
from tocsin.detect.ingest.stream import open_input


def read_evtx(path: Path) -> tuple[list[Event], list[IngestWarning]]:
    warnings: list[IngestWarning] = []
    with open_input(path, 1 << 30) as stream:
        events = list(EvtxFormat().read(stream, ReadContext(str(path), sink=warnings.append)))
    return events, warnings


def companion_documents(path: Path) -> list[dict[str, Any]]:
    """The .json rendering: one document, or several concatenated (pretty-printed)."""
    text = path.read_text(encoding="utf-8")
    decoder = json.JSONDecoder()
    documents, position = [], 0
    while position < len(text):
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            break
        document, position = decoder.raw_decode(text, position)
        documents.append(document)
    return documents


def test_regression_data_fields_match_their_json_renderings() -> None:
    """Same events, same field names; values equal but for a few hand edits in the .json.

    The .json renderings were not all produced from the .evtx byte for byte: some trim a
    trailing space or change case (``Explorer.EXE`` / ``Explorer.exe``). The EVTX is the
    truth; such differences must stay rare.
    """
    root = shared_data("detect", "sigma", "regression_data")
    cases = sorted(root.rglob("*.evtx"))
    assert len(cases) >= 200
    values = events_compared = 0
    differences: list[tuple[str, str, str, str]] = []
    for case in cases:
        events, warnings = read_evtx(case)
        assert not warnings, case
        expected = [normalise(d, 0) for d in companion_documents(case.with_suffix(".json"))]
        assert len(events) == len(expected), case
        for got, want in zip(events, expected, strict=True):
            assert sorted(got.fields) == sorted(want.fields), case
            assert got.time == want.time and got.host == want.host, case
            assert got.fields["EventID"] == want.fields["EventID"]
            for name, value in got.fields.items():
                values += 1
                other = want.fields[name]
                if value.strip() != other.strip():  # the renderings trim trailing spaces
                    differences.append((case.name, name, value, other))
            events_compared += 1
    assert events_compared >= 202
    assert values > 6000
    # One hand edit known: Explorer.EXE in the .evtx, Explorer.exe in its .json.
    assert len(differences) <= 1, differences
    assert all(a.lower() == b.lower() for _, _, a, b in differences), differences


def test_attack_samples_read_without_loss() -> None:
    root = shared_data("detect", "evtx-attack-samples")
    total = 0
    for path in sorted(root.rglob("*.evtx")):
        events, warnings = read_evtx(path)
        assert not warnings, path
        for event in events:
            assert event.source == "windows" and event.fields["EventID"].isdigit()
            assert event.time is not None and event.time.tzinfo is not None
        total += len(events)
    assert total >= 8000


def test_known_fields_of_a_security_event() -> None:
    path = shared_data("detect", "evtx-attack-samples", "Credential Access")
    (event, *_), _ = read_evtx(path / "4794_DSRM_password_change_t1098.evtx")
    assert event.fields["EventID"] == "4794"
    assert event.fields["Provider_Name"] == "Microsoft-Windows-Security-Auditing"
    assert event.fields["SubjectUserName"] == "administrator"
    assert event.host == event.fields["Computer"] == "2016dc.hqcorp.local"


def test_normalise_unnamed_data_userdata_qualifiers_and_booleans() -> None:
    document = {
        "Event": {
            "System": {
                "EventID": {"#attributes": {"Qualifiers": 16384}, "#text": 7036},
                "Execution": {"#attributes": {"ProcessID": 4, "ThreadID": 8}},
                "Security": {"#attributes": {"UserID": "S-1-5-18"}},
                "TimeCreated": {"#attributes": {"SystemTime": "2024-01-05T10:00:00.000001Z"}},
            },
            "EventData": {"Data": {"#text": ["show advanced options", "0", "1"]}, "Binary": None},
            "UserData": {"LogFileCleared": {"#attributes": {}, "SubjectUserName": "u", "On": True}},
        }
    }
    event = normalise(document, 5)
    assert event.fields == {
        "EventID": "7036",
        "ProcessID": "4",
        "UserID": "S-1-5-18",
        "Data1": "show advanced options",
        "Data2": "0",
        "Data3": "1",
        "SubjectUserName": "u",
        "On": "true",
    }
    assert event.record == 5


def test_corrupt_evtx_is_an_input_error(tmp_path: Path) -> None:
    from tocsin.errors import InputError

    bad = tmp_path / "x.evtx"
    bad.write_bytes(b"ElfFile\x00" + b"\xff" * 5000)
    with pytest.raises(InputError) as caught:
        read_evtx(bad)
    assert caught.value.location is not None and caught.value.location.file == str(bad)
