"""Syslog, web access, FortiGate and JSON lines parsers on crafted lines and their variants."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from tocsin.detect.ingest.base import ReadContext, detect_format
from tocsin.detect.ingest.fortigate import FortigateFormat
from tocsin.detect.ingest.jsonl import JsonLinesFormat
from tocsin.detect.ingest.model import Event, IngestWarning, Limits
from tocsin.detect.ingest.syslog import SyslogFormat
from tocsin.detect.ingest.web import WebFormat

REFERENCE = datetime(2024, 3, 10, tzinfo=UTC)


def read(fmt: object, text: str | bytes, **limits: int) -> tuple[list[Event], list[IngestWarning]]:
    warnings: list[IngestWarning] = []
    ctx = ReadContext("in.log", Limits(**limits), warnings.append, REFERENCE)
    data = text.encode() if isinstance(text, str) else text
    events = list(fmt.read(io.BufferedReader(io.BytesIO(data)), ctx))  # type: ignore[attr-defined]
    return events, warnings


def test_syslog_rfc5424_with_structured_data_escapes_and_bom() -> None:
    line = (
        "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
        '[exampleSDID@32473 iut="3" eventSource="Appl \\"quoted\\" \\]x"][other a="b"] '
        "\ufeffAn application event"
    )
    (event,), warnings = read(SyslogFormat(), line)
    assert not warnings
    assert event.time == datetime(2003, 10, 11, 22, 14, 15, 3000, tzinfo=UTC)
    assert event.host == "mymachine.example.com"
    assert event.fields["facility"] == "local4" and event.fields["severity"] == "notice"
    assert event.fields["app"] == "evntslog" and "pid" not in event.fields
    assert event.fields["msgid"] == "ID47"
    assert event.fields["sd.exampleSDID@32473.eventSource"] == 'Appl "quoted" ]x'
    assert event.fields["sd.other.a"] == "b"
    assert event.message == event.fields["message"] == "An application event"


def test_syslog_rfc3164_variants() -> None:
    text = (
        "<34>Oct 11 22:14:15 mymachine su[123]: 'su root' failed for lonvick\n"
        "Mar  9 01:02:03 host sshd[42]: Accepted password for bob\n"
        "2024-03-09T10:00:00.123+01:00 web01 nginx: started\n"
        "<13>Dec 31 23:59:59 host cron: rollover\n"
    )
    events, warnings = read(SyslogFormat(), text)
    assert not warnings
    first, second, third, fourth = events
    assert first.time == datetime(2023, 10, 11, 22, 14, 15, tzinfo=UTC)  # year inferred
    assert (first.host, first.fields["app"], first.fields["pid"]) == ("mymachine", "su", "123")
    assert first.fields["facility"] == "auth" and first.fields["severity"] == "crit"
    assert "facility" not in second.fields  # no PRI
    assert second.time == datetime(2024, 3, 9, 1, 2, 3, tzinfo=UTC)
    assert second.message == "Accepted password for bob"
    assert third.time == datetime(2024, 3, 9, 9, 0, 0, 123000, tzinfo=UTC)
    assert third.host == "web01" and third.fields["app"] == "nginx"
    assert fourth.time is not None and fourth.time.year == 2023
    assert [e.record for e in events] == [1, 2, 3, 4]


def test_syslog_bad_lines_are_located_warnings() -> None:
    events, warnings = read(SyslogFormat(), "<999>Oct 11 22:14:15 h a: x\nnot syslog\n<34>1 bad\n")
    assert events == []
    assert [(w.location.file, w.location.line) for w in warnings] == [
        ("in.log", 1),
        ("in.log", 2),
        ("in.log", 3),
    ]
    assert warnings[0].location.field == "pri"
    assert warnings[1].location.field == "timestamp"


def test_ncsa_common_combined_and_vhost() -> None:
    text = (
        '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif?x=1 HTTP/1.0" 200 2326\n'
        '10.0.0.2 - - [10/Oct/2000:13:55:36 +0000] "POST /login HTTP/1.1" 302 - '
        '"http://ref/" "Mozilla/5.0 (X11; \\"q\\")"\n'
        'www.example.org:443 10.0.0.3 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/2.0" 200 5 '
        '"-" "curl/8"\n'
        '10.0.0.4 - - [10/Oct/2000:13:55:36 +0000] "\\x16\\x03\\x01" 400 0 "-" "-"\n'
    )
    events, warnings = read(WebFormat(), text)
    assert not warnings
    common, combined, vhost, junk = events
    assert common.time == datetime(2000, 10, 10, 20, 55, 36, tzinfo=UTC)
    assert common.fields == {
        "c-ip": "127.0.0.1",
        "cs-username": "frank",
        "cs-method": "GET",
        "cs-uri-stem": "/a.gif",
        "cs-uri-query": "x=1",
        "cs-version": "HTTP/1.0",
        "sc-status": "200",
        "sc-bytes": "2326",
    }
    assert common.message is not None and common.message.startswith("127.0.0.1")
    assert combined.fields["cs-user-agent"] == 'Mozilla/5.0 (X11; "q")'
    assert combined.fields["cs-referer"] == "http://ref/" and "sc-bytes" not in combined.fields
    assert (vhost.host, vhost.fields["cs-host"], vhost.fields["s-port"]) == (
        "www.example.org",
        "www.example.org",
        "443",
    )
    assert junk.fields["cs-uri-stem"] == "\\x16\\x03\\x01" and "cs-method" not in junk.fields


def test_iis_w3c_fields_change_mid_file() -> None:
    text = (
        "#Software: Microsoft Internet Information Services 10.0\r\n"
        "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port c-ip "
        "cs(User-Agent) sc-status time-taken\r\n"
        "2024-01-05 10:00:00 10.0.0.1 GET /owa/ a=1 443 1.2.3.4 Mozilla/5.0+(Windows) 200 15\r\n"
        "#Fields: date time c-ip cs-method cs-uri-stem sc-status\r\n"
        "2024-01-05 10:00:01 5.6.7.8 POST /ecp/ 500\r\n"
        "2024-01-05 10:00:02 5.6.7.8 POST\r\n"
    )
    events, warnings = read(WebFormat(), text)
    first, second = events
    assert first.fields["cs-user-agent"] == "Mozilla/5.0+(Windows)"
    assert first.fields["cs-uri-query"] == "a=1" and first.fields["time-taken"] == "15"
    assert first.time == datetime(2024, 1, 5, 10, 0, tzinfo=UTC)
    assert second.fields == {
        "date": "2024-01-05",
        "time": "10:00:01",
        "c-ip": "5.6.7.8",
        "cs-method": "POST",
        "cs-uri-stem": "/ecp/",
        "sc-status": "500",
    }
    assert [(w.location.line, w.reason) for w in warnings] == [
        (6, "4 values for 6 #Fields columns")
    ]


def test_w3c_data_before_fields_is_a_warning() -> None:
    events, warnings = read(WebFormat(), "#Version: 1.0\n2024-01-05 10:00:00 x\n")
    assert events == [] and warnings[0].location.line == 2


def test_fortigate_traffic_line() -> None:
    line = (
        '<189>date=2024-01-05 time=10:00:00 devname="FG-100F" devid="FG100F" '
        'eventtime=1704445200000000000 tz="+0100" logid="0000000013" type="traffic" '
        'subtype="forward" srcip=10.0.0.5 dstip=8.8.8.8 dstport=53 action="accept" '
        'service="DNS" msg="a \\"quoted\\" msg with spaces" empty=""'
    )
    (event,), warnings = read(FortigateFormat(), line)
    assert not warnings
    assert event.time == datetime(2024, 1, 5, 9, 0, tzinfo=UTC)
    assert event.host == "FG-100F"
    assert event.message == 'a "quoted" msg with spaces'
    assert event.fields["dstport"] == "53" and event.fields["action"] == "accept"
    assert event.fields["empty"] == ""
    assert event.source == "fortigate"


def test_fortigate_eventtime_and_errors() -> None:
    text = (
        "logid=1 devname=fw eventtime=1704445200123 type=event\n"
        "date=2024-13-45 time=10:00:00 logid=1 devname=fw\n"
        'date=2024-01-05 time=10:00:00 tz="+9999" logid=1\n'
        "nothing here\n"
    )
    events, warnings = read(FortigateFormat(), text)
    assert events[0].time == datetime(2024, 1, 5, 9, 0, 0, 123000, tzinfo=UTC)
    assert [(w.location.line, w.location.field) for w in warnings] == [
        (2, "date"),
        (3, "tz"),
        (4, None),
    ]


def test_jsonl_winlogbeat_ecs_windows_event() -> None:
    line = (
        '{"@timestamp":"2024-01-05T10:00:00.5Z","host":{"name":"PC1"},'
        '"winlog":{"event_id":4688,"channel":"Security","provider_name":"Microsoft-Windows-'
        'Security-Auditing","computer_name":"PC1.corp","record_id":77,'
        '"event_data":{"NewProcessName":"C:\\\\w\\\\cmd.exe","CommandLine":"cmd /c vssadmin"}},'
        '"process":{"command_line":"cmd /c vssadmin","pid":4}}'
    )
    (event,), warnings = read(JsonLinesFormat(), line)
    assert not warnings
    assert event.source == "windows"
    assert event.fields["EventID"] == "4688" and event.fields["Channel"] == "Security"
    assert event.fields["Computer"] == "PC1.corp" and event.host == "PC1.corp"
    assert event.fields["Provider_Name"] == "Microsoft-Windows-Security-Auditing"
    assert event.fields["CommandLine"] == "cmd /c vssadmin"
    assert event.fields["NewProcessName"] == "C:\\w\\cmd.exe"
    assert event.fields["process.command_line"] == "cmd /c vssadmin"
    assert event.time == datetime(2024, 1, 5, 10, 0, 0, 500000, tzinfo=UTC)


def test_jsonl_sysmon_for_linux_generic_and_bad_lines() -> None:
    sysmon = (
        '{"Event":{"System":{"Provider":{"#attributes":{"Name":"Linux-Sysmon"}},'
        '"EventID":1,"Channel":"Linux-Sysmon/Operational","Computer":"lx1",'
        '"TimeCreated":{"#attributes":{"SystemTime":"2024-01-05T10:00:00.000000Z"}}},'
        '"EventData":{"Image":"/usr/bin/curl","CommandLine":"curl x"}}}'
    )
    generic = '{"ts": 1704448800, "hostname": "app", "a": {"b": [1, 2], "c": true, "d": null}}'
    text = "\ufeff" + "\n".join([sysmon, generic, "[1,2]", "{bad json", ""]) + "\n"
    events, warnings = read(JsonLinesFormat(), text)
    linux, other = events
    assert linux.source == "linux" and linux.fields["Image"] == "/usr/bin/curl"
    assert linux.fields["EventID"] == "1" and linux.host == "lx1"
    assert other.source == "json" and other.host == "app"
    assert other.fields == {"ts": "1704448800", "hostname": "app", "a.b": "[1,2]", "a.c": "true"}
    assert other.time == datetime(2024, 1, 5, 10, 0, tzinfo=UTC)
    assert [w.location.line for w in warnings] == [3, 4]


def test_oversized_lines_are_skipped_with_a_warning() -> None:
    text = '{"a": "' + "x" * 5000 + '"}\n{"b": "1"}\n'
    events, warnings = read(JsonLinesFormat(), text, max_record_bytes=1024)
    assert [e.fields for e in events] == [{"b": "1"}]
    assert warnings[0].location.line == 1 and "exceeds" in warnings[0].reason
    assert events[0].record == 2


def test_detection_by_content() -> None:
    cases = {
        b"ElfFile\x00rest": "evtx",
        b'\xef\xbb\xbf  {"a": 1}\n': "jsonl",
        b"#Software: Microsoft IIS\n": "web",
        b'1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1\n': "web",
        b"date=2024-01-05 time=10:00:00 devname=fw logid=1\n": "fortigate",
        b"<34>Oct 11 22:14:15 host su: x\n": "syslog",
        b"<34>1 2003-10-11T22:14:15Z h a - - - m\n": "syslog",
        b"Oct 11 22:14:15 host su: x\n": "syslog",
    }
    for head, name in cases.items():
        found = detect_format(head)
        assert found is not None and found.name == name, head
    assert detect_format(b"\x00\x01binary junk") is None
