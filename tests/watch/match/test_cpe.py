"""CPE 2.3 parsing, name matching (NISTIR 7695/7696) and NVD configuration semantics."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tocsin.model.advisory import CpeConfiguration, CpeMatch, CpeNode
from tocsin.watch.match.cpe import (
    ANY,
    NA,
    InvalidCpeError,
    cpe_from_parts,
    cpe_matches,
    criterion_matches,
    describe_criterion,
    parse_cpe,
    vendor_product,
)
from tocsin.watch.match.cpe_config import (
    CpeSet,
    configuration_products,
    evaluate_configuration,
    evaluate_configurations,
)

TAIL = ":*:*:*:*:*:*:*"


def cpe(part: str, vendor: str, product: str, version: str = "*", update: str = "*") -> str:
    return f"cpe:2.3:{part}:{vendor}:{product}:{version}:{update}:*:*:*:*:*:*"


def config(*nodes: CpeNode, operator: str = "OR", negate: bool = False) -> CpeConfiguration:
    return CpeConfiguration(nodes=nodes, operator=operator, negate=negate)


def node(*matches: CpeMatch, operator: str = "OR", negate: bool = False) -> CpeNode:
    return CpeNode(operator=operator, negate=negate, matches=matches)


FORTIOS = CpeMatch(
    cpe("o", "fortinet", "fortios"),
    version_start_including="7.2.0",
    version_end_excluding="7.2.10",
)

# --- parsing ---------------------------------------------------------------------------------


def test_parse_formatted_string() -> None:
    name = parse_cpe("cpe:2.3:o:microsoft:windows_10:1607:*:*:*:*:*:x64:*")
    assert (name.part, name.vendor, name.product, name.version) == (
        "o",
        "microsoft",
        "windows_10",
        "1607",
    )
    assert name.update == ANY and name.target_hw == "x64"


@pytest.mark.parametrize(
    ("text", "vendor", "product"),
    [
        (
            r"cpe:2.3:a:veeam:veeam_backup_\&_replication:12.0" + TAIL,
            "veeam",
            "veeam_backup_&_replication",
        ),
        (r"cpe:2.3:a:apache:xerces-c\+\+:3.2.2" + TAIL, "apache", "xerces-c++"),
        (r"cpe:2.3:a:aenrich:a\+hrd:*" + TAIL, "aenrich", "a+hrd"),
        (
            r"cpe:2.3:a:actions\/artifact\/:github_toolkit:*" + TAIL,
            "actions/artifact/",
            "github_toolkit",
        ),
        (r"cpe:2.3:a:foo:bar\:baz:1.0" + TAIL, "foo", "bar:baz"),
        (r"cpe:2.3:a:foo:star\*:1.0" + TAIL, "foo", "star*"),
        ("CPE:2.3:A:Apache:Tomcat:9.0.1" + TAIL, "apache", "tomcat"),
    ],
)
def test_escapes_are_read(text: str, vendor: str, product: str) -> None:
    assert vendor_product(text) == (vendor, product)
    assert parse_cpe(str(parse_cpe(text))) == parse_cpe(text)  # binding round-trips


def test_escaped_and_unescaped_spellings_are_the_same_name() -> None:
    escaped = parse_cpe(r"cpe:2.3:a:veeam:veeam_backup_\&_replication:12.0" + TAIL)
    lenient = parse_cpe("cpe:2.3:a:veeam:veeam_backup_&_replication:12.0" + TAIL)
    assert escaped == lenient
    assert str(lenient) == r"cpe:2.3:a:veeam:veeam_backup_\&_replication:12.0" + TAIL


def test_a_literal_star_is_not_a_wildcard() -> None:
    assert not cpe_matches(r"cpe:2.3:a:foo:star\*" + ":*" + TAIL, cpe("a", "foo", "starlight"))
    assert cpe_matches(r"cpe:2.3:a:foo:star*" + ":*" + TAIL, cpe("a", "foo", "starlight"))


def test_cpe_22_uri_is_accepted() -> None:
    assert parse_cpe("cpe:/a:apache:tomcat:9.0.1") == parse_cpe(
        cpe("a", "apache", "tomcat", "9.0.1")
    )
    packed = parse_cpe("cpe:/a:microsoft:sql_server:2019::~~~x64~~")
    assert packed.target_sw == "x64" and packed.edition == ANY


@pytest.mark.parametrize(
    "text",
    [
        "",
        "tomcat",
        "cpe:2.3:a:apache:tomcat",
        "cpe:2.3:a:apache:tomcat:9:*:*:*:*:*:*:*:*:*",
        "cpe:2.3:x:apache:tomcat:9" + TAIL,
        "cpe:2.3:a:" + "v" * 2000 + ":p:1" + TAIL,
    ],
)
def test_invalid_names_raise(text: str) -> None:
    with pytest.raises(InvalidCpeError):
        parse_cpe(text)


def test_cpe_from_parts_escapes_and_normalises() -> None:
    text = cpe_from_parts("a", "Veeam", "Veeam Backup & Replication", "12.1")
    assert text == r"cpe:2.3:a:veeam:veeam_backup_\&_replication:12.1" + TAIL
    assert cpe_from_parts("h", "Siemens", "SIMATIC S7-1500", None) == cpe(
        "h", "siemens", "simatic_s7-1500"
    )
    assert cpe_from_parts("o", "cisco", "ios", "-") == cpe("o", "cisco", "ios", "-")
    assert cpe_from_parts("a", "openbsd", "openssh", "7.2", "p1") == cpe(
        "a", "openbsd", "openssh", "7.2", "p1"
    )


_words = st.text(
    alphabet=st.sampled_from("abcXYZ019 _.-&+/:!()*?\\é"), min_size=1, max_size=12
).filter(lambda s: s.strip() not in ("", "*", "-"))


@settings(max_examples=150, deadline=None)
@given(_words, _words, _words)
def test_cpe_from_parts_round_trips(vendor: str, product: str, version: str) -> None:
    text = cpe_from_parts("a", vendor, product, version)
    name = parse_cpe(text)
    assert vendor_product(name) == (
        "_".join(vendor.strip().lower().split()),
        "_".join(product.strip().lower().split()),
    )
    assert parse_cpe(str(name)) == name
    assert cpe_matches(text, text)


# --- name matching (NISTIR 7696) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "target", "expected"),
    [
        (cpe("a", "apache", "tomcat"), cpe("a", "apache", "tomcat", "9.0.1"), True),
        (cpe("a", "apache", "tomcat", "9.0.1"), cpe("a", "apache", "tomcat", "9.0.1"), True),
        (cpe("a", "apache", "tomcat", "9.0.1"), cpe("a", "apache", "tomcat"), False),  # subset
        (cpe("a", "*", "log4j"), cpe("a", "apache", "log4j", "2.14.1"), True),
        (cpe("a", "apache", "log4j"), cpe("a", "*", "log4j", "2.14.1"), False),
        (cpe("a", "apache", "tomcat", "-"), cpe("a", "apache", "tomcat", "-"), True),
        (cpe("a", "apache", "tomcat", "-"), cpe("a", "apache", "tomcat", "9.0"), False),
        (cpe("a", "apache", "tomcat", "-"), cpe("a", "apache", "tomcat"), False),
        (cpe("a", "apache", "tomcat"), cpe("a", "apache", "tomcat", "-"), True),
        (cpe("a", "apache", "tomcat", "9.*"), cpe("a", "apache", "tomcat", "9.0.1"), True),
        (cpe("a", "apache", "tomcat", "9.?"), cpe("a", "apache", "tomcat", "9.1"), True),
        (cpe("a", "apache", "tomcat", "9.?"), cpe("a", "apache", "tomcat", "9.10"), False),
        (cpe("a", "apache", "tomcat"), cpe("o", "apache", "tomcat"), False),  # part a vs o
        (cpe("*", "apache", "tomcat"), cpe("o", "apache", "tomcat"), True),
        (cpe("a", "apache", "tom*"), cpe("a", "apache", "tomcat"), True),
        (cpe("a", "apache", "*cat"), cpe("a", "apache", "tomcat"), True),
    ],
)
def test_cpe_matches(pattern: str, target: str, expected: bool) -> None:
    assert cpe_matches(pattern, target) is expected


# --- one criterion ---------------------------------------------------------------------------


def crit(criteria: str, **bounds: str) -> CpeMatch:
    return CpeMatch(criteria, **bounds)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("match", "asset", "version", "expected"),
    [
        (FORTIOS, cpe("o", "fortinet", "fortios", "7.2.5"), None, True),
        (FORTIOS, cpe("o", "fortinet", "fortios", "7.2.10"), None, False),
        (FORTIOS, cpe("o", "fortinet", "fortios", "7.0.12"), None, False),
        (FORTIOS, cpe("o", "fortinet", "fortios"), "7.2.5", True),
        (FORTIOS, cpe("o", "fortinet", "fortios"), None, None),  # unknown version
        (FORTIOS, cpe("o", "fortinet", "fortios", "-"), None, False),
        (FORTIOS, cpe("o", "fortinet", "fortios", "beta"), None, None),  # unreadable
        (FORTIOS, cpe("a", "fortinet", "fortios", "7.2.5"), None, False),  # part mismatch
        (FORTIOS, cpe("h", "fortinet", "fortios", "7.2.5"), None, False),
        (FORTIOS, cpe("*", "fortinet", "fortios", "7.2.5"), None, True),  # part not given
        (FORTIOS, cpe("o", "fortinet", "fortiproxy", "7.2.5"), None, False),
        # versionStartExcluding / versionEndIncluding.
        (
            crit(cpe("a", "x", "y"), version_start_excluding="1.0"),
            cpe("a", "x", "y", "1.0"),
            None,
            False,
        ),
        (
            crit(cpe("a", "x", "y"), version_start_excluding="1.0"),
            cpe("a", "x", "y", "1.0.1"),
            None,
            True,
        ),
        (
            crit(cpe("a", "x", "y"), version_end_including="3.14"),
            cpe("a", "x", "y", "3.14.0"),
            None,
            True,
        ),
        (
            crit(cpe("a", "x", "y"), version_end_including="3.14"),
            cpe("a", "x", "y", "3.14.1"),
            None,
            False,
        ),
        # A specific version and no bounds: that version only (7.2 == 7.2.0).
        (
            crit(cpe("a", "apache", "tomcat", "9.0.1")),
            cpe("a", "apache", "tomcat", "9.0.1"),
            None,
            True,
        ),
        (
            crit(cpe("a", "apache", "tomcat", "9.0.1")),
            cpe("a", "apache", "tomcat", "9.0.10"),
            None,
            False,
        ),
        (
            crit(cpe("a", "apache", "tomcat", "9.0.1")),
            cpe("a", "apache", "tomcat", "9.0.1.0"),
            None,
            True,
        ),
        (crit(cpe("a", "apache", "tomcat", "9.0.1")), cpe("a", "apache", "tomcat"), "9.0.1", True),
        (crit(cpe("a", "apache", "tomcat", "9.0.1")), cpe("a", "apache", "tomcat"), None, None),
        # '*' vendor in the criterion matches any vendor; a '*' vendor in the inventory matches
        # no named vendor (the wildcard-vendor false positives of other tools).
        (
            crit(cpe("a", "*", "log4j"), version_end_excluding="2.15"),
            cpe("a", "apache", "log4j", "2.14.1"),
            None,
            True,
        ),
        (
            crit(cpe("a", "apache", "log4j"), version_end_excluding="2.15"),
            cpe("a", "*", "log4j", "2.14.1"),
            None,
            False,
        ),
        # '-' (NA) versions.
        (crit(cpe("o", "acme", "fw", "-")), cpe("o", "acme", "fw", "-"), None, True),
        (crit(cpe("o", "acme", "fw", "-")), cpe("o", "acme", "fw", "2.1"), None, None),
        (crit(cpe("o", "acme", "fw", "-")), cpe("o", "acme", "fw"), None, None),
        (crit(cpe("h", "acme", "pump", "-")), cpe("h", "acme", "pump"), None, True),
        (crit(cpe("h", "acme", "pump", "-")), cpe("h", "acme", "pump", "rev_b"), None, True),
        (crit(cpe("a", "acme", "app", "1.0")), cpe("a", "acme", "app", "-"), None, False),
    ],
)
def test_criterion_matches(
    match: CpeMatch, asset: str, version: str | None, expected: bool | None
) -> None:
    assert criterion_matches(match, asset, version) is expected


@pytest.mark.parametrize(
    ("criteria", "asset", "expected"),
    [
        # Update as its own field in the criterion ...
        (
            cpe("a", "openbsd", "openssh", "7.2", "p1"),
            cpe("a", "openbsd", "openssh", "7.2", "p1"),
            True,
        ),
        (
            cpe("a", "openbsd", "openssh", "7.2", "p1"),
            cpe("a", "openbsd", "openssh", "7.2p1"),
            True,
        ),
        (
            cpe("a", "openbsd", "openssh", "7.2", "p1"),
            cpe("a", "openbsd", "openssh", "7.2p2"),
            False,
        ),
        (cpe("a", "openbsd", "openssh", "7.2", "p1"), cpe("a", "openbsd", "openssh", "7.2"), False),
        (
            cpe("a", "fortinet", "fortiweb", "7.2.5", "p1"),
            cpe("a", "fortinet", "fortiweb", "7.2.5-P1"),
            True,
        ),
        # ... '*' covers every update of the version, glued or not ...
        (cpe("a", "openbsd", "openssh", "7.2"), cpe("a", "openbsd", "openssh", "7.2", "p1"), True),
        (cpe("a", "openbsd", "openssh", "7.2"), cpe("a", "openbsd", "openssh", "7.2p1"), True),
        (cpe("a", "openbsd", "openssh", "7.2"), cpe("a", "openbsd", "openssh", "7.2.1"), False),
        (cpe("a", "openssl", "openssl", "1.1.1"), cpe("a", "openssl", "openssl", "1.1.1w"), False),
        (cpe("a", "acme", "server", "7.2"), cpe("a", "acme", "server", "7.2_sp1"), True),
        (cpe("a", "acme", "server", "7.2"), cpe("a", "acme", "server", "7.2u3"), True),
        (cpe("a", "acme", "server", "7.2"), cpe("a", "acme", "server", "7.2_build_5"), True),
        (cpe("a", "acme", "server", "7.2"), cpe("a", "acme", "server", "7.2-rc1"), False),
        # ... and '-' means the release without an update.
        (
            cpe("o", "microsoft", "windows_10", "1607", "-"),
            cpe("o", "microsoft", "windows_10", "1607"),
            True,
        ),
        (
            cpe("o", "microsoft", "windows_10", "1607", "-"),
            cpe("o", "microsoft", "windows_10", "1607", "-"),
            True,
        ),
        (
            cpe("o", "microsoft", "windows_10", "1607", "-"),
            cpe("o", "microsoft", "windows_10", "1607", "sp1"),
            False,
        ),
        (
            cpe("o", "microsoft", "windows_10", "1607"),
            cpe("o", "microsoft", "windows_10", "1607"),
            True,
        ),
        (
            cpe("o", "microsoft", "windows_10", "1607"),
            cpe("o", "microsoft", "windows_10", "1703"),
            False,
        ),
    ],
)
def test_update_field(criteria: str, asset: str, expected: bool) -> None:
    assert criterion_matches(CpeMatch(criteria), asset) is expected


def test_update_field_with_bounds() -> None:
    match = crit(cpe("a", "fortinet", "fortiweb"), version_end_excluding="7.2.6")
    assert criterion_matches(match, cpe("a", "fortinet", "fortiweb", "7.2.5", "p1")) is True
    assert criterion_matches(match, cpe("a", "fortinet", "fortiweb", "7.2.6", "p1")) is False
    upd = crit(cpe("a", "fortinet", "fortiweb", "*", "p1"), version_end_excluding="7.2.6")
    assert criterion_matches(upd, cpe("a", "fortinet", "fortiweb", "7.2.5", "p2")) is False


WINDOWS_2022 = crit(
    "cpe:2.3:o:microsoft:windows_server_2022:*:*:*:*:*:*:*:*",
    version_end_excluding="10.0.20348.2655",
)
WINDOWS_1607_X64 = crit(
    "cpe:2.3:o:microsoft:windows_10_1607:*:*:*:*:*:*:x64:*",
    version_end_excluding="10.0.14393.7159",
)


@pytest.mark.parametrize(
    ("match", "asset", "expected"),
    [
        (WINDOWS_2022, cpe("o", "microsoft", "windows_server_2022", "10.0.20348.2582"), True),
        (WINDOWS_2022, cpe("o", "microsoft", "windows_server_2022", "10.0.20348.2655"), False),
        (WINDOWS_2022, cpe("o", "microsoft", "windows_server_2022", "10.0.20348.2700"), False),
        (WINDOWS_2022, cpe("o", "microsoft", "windows_server_2022", "10.0.20348.999"), True),
        (WINDOWS_1607_X64, cpe("o", "microsoft", "windows_10_1607", "10.0.14393.6897"), True),
        (
            WINDOWS_1607_X64,
            "cpe:2.3:o:microsoft:windows_10_1607:10.0.14393.6897:*:*:*:*:*:x64:*",
            True,
        ),
        (
            WINDOWS_1607_X64,
            "cpe:2.3:o:microsoft:windows_10_1607:10.0.14393.6897:*:*:*:*:*:x86:*",
            False,
        ),
        (WINDOWS_1607_X64, cpe("o", "microsoft", "windows_10_1607", "10.0.14393.7159"), False),
    ],
)
def test_windows_builds_nvd_style(match: CpeMatch, asset: str, expected: bool) -> None:
    assert criterion_matches(match, asset) is expected


def test_refining_attributes() -> None:
    wp = CpeMatch("cpe:2.3:a:acme:gallery:*:*:*:*:*:wordpress:*:*", version_end_excluding="2.0")
    assert criterion_matches(wp, cpe("a", "acme", "gallery", "1.5")) is True
    assert criterion_matches(wp, "cpe:2.3:a:acme:gallery:1.5:*:*:*:*:wordpress:*:*") is True
    assert criterion_matches(wp, "cpe:2.3:a:acme:gallery:1.5:*:*:*:*:joomla:*:*") is False


def test_escaped_product_in_criterion_matches_plain_inventory_name() -> None:
    match = crit(
        r"cpe:2.3:a:veeam:veeam_backup_\&_replication:*" + TAIL, version_end_excluding="12.1.2.172"
    )
    asset = cpe_from_parts("a", "veeam", "Veeam Backup & Replication", "12.1.1.56")
    assert criterion_matches(match, asset) is True


def test_invalid_criterion_never_matches() -> None:
    assert criterion_matches(CpeMatch("cpe:2.3:broken"), cpe("a", "x", "y", "1")) is False


# --- configurations --------------------------------------------------------------------------


def test_or_node_reports_the_criterion_and_the_asset_cpe() -> None:
    other = CpeMatch(
        cpe("o", "fortinet", "fortios"),
        version_start_including="7.4.0",
        version_end_excluding="7.4.3",
    )
    result = evaluate_configuration(
        config(node(other, FORTIOS)), [cpe("o", "fortinet", "fortios", "7.2.5")]
    )
    assert result is not None and result.certain
    assert result.criterion == FORTIOS
    assert result.asset_cpe == cpe("o", "fortinet", "fortios", "7.2.5")
    assert result.evidence == (
        f"{cpe('o', 'fortinet', 'fortios')} [>= 7.2.0, < 7.2.10] matched "
        f"{cpe('o', 'fortinet', 'fortios', '7.2.5')}"
    )


def test_inventory_version_stands_for_a_star_version() -> None:
    result = evaluate_configuration(
        config(node(FORTIOS)), [cpe("o", "fortinet", "fortios")], "7.2.5"
    )
    assert result is not None and result.certain
    assert "inventory version 7.2.5" in result.evidence
    assert (
        evaluate_configuration(config(node(FORTIOS)), [cpe("o", "fortinet", "fortios")], "7.4.1")
        is None
    )


def test_unknown_version_gives_an_uncertain_result() -> None:
    result = evaluate_configuration(config(node(FORTIOS)), [cpe("o", "fortinet", "fortios")])
    assert result is not None and not result.certain


def test_no_match_is_none() -> None:
    assert (
        evaluate_configuration(config(node(FORTIOS)), [cpe("o", "fortinet", "fortios", "7.2.10")])
        is None
    )
    assert evaluate_configuration(config(node(FORTIOS)), []) is None
    assert evaluate_configuration(config(), [cpe("o", "fortinet", "fortios", "7.2.5")]) is None


APP = CpeMatch(cpe("a", "acme", "pacs_viewer"), version_end_excluding="3.0")
ON_WINDOWS = CpeMatch(cpe("o", "microsoft", "windows"), vulnerable=False)
RUNNING_ON = config(node(APP), node(ON_WINDOWS), operator="AND")


def test_running_on_needs_the_platform_in_the_establishment() -> None:
    asset = [cpe("a", "acme", "pacs_viewer", "2.5")]
    assert evaluate_configuration(RUNNING_ON, asset) is None
    assert (
        evaluate_configuration(
            RUNNING_ON, asset, platform_cpes=[cpe("o", "linux", "linux_kernel", "6.1")]
        )
        is None
    )
    establishment = [
        cpe("o", "linux", "linux_kernel", "6.1"),
        cpe("o", "microsoft", "windows", "10"),
    ]
    result = evaluate_configuration(RUNNING_ON, asset, platform_cpes=establishment)
    assert result is not None and result.certain
    assert result.criterion == APP
    assert result.platform_cpe == cpe("o", "microsoft", "windows", "10")
    assert result.evidence.endswith(f"; with {cpe('o', 'microsoft', 'windows', '10')}")


def test_platform_in_the_assets_own_cpes() -> None:
    asset = [cpe("a", "acme", "pacs_viewer", "2.5"), cpe("o", "microsoft", "windows", "10")]
    result = evaluate_configuration(RUNNING_ON, asset)
    assert result is not None and result.platform_cpe == cpe("o", "microsoft", "windows", "10")


def test_the_platform_itself_is_not_vulnerable() -> None:
    windows_host = [cpe("o", "microsoft", "windows", "10")]
    establishment = windows_host + [cpe("a", "acme", "pacs_viewer", "2.5")]
    assert evaluate_configuration(RUNNING_ON, windows_host, platform_cpes=establishment) is None


def test_firmware_and_hardware_and_node() -> None:
    firmware = CpeMatch(cpe("o", "acme", "pump_firmware"), version_end_excluding="2.0")
    device = CpeMatch(cpe("h", "acme", "pump", "-"), vulnerable=False)
    cfg = config(node(firmware, device, operator="AND"))
    both = [cpe("o", "acme", "pump_firmware", "1.9"), cpe("h", "acme", "pump")]
    result = evaluate_configuration(cfg, both)
    assert result is not None and result.certain and result.criterion == firmware
    assert evaluate_configuration(cfg, both[:1]) is None
    assert evaluate_configuration(cfg, [cpe("o", "acme", "pump_firmware", "2.0"), both[1]]) is None


def test_negated_node_excludes_a_platform() -> None:
    firmware = CpeMatch(cpe("o", "acme", "fw"), version_end_excluding="5.0")
    model_x = CpeMatch(cpe("h", "acme", "model_x", "-"), vulnerable=False)
    cfg = config(node(firmware), node(model_x, negate=True), operator="AND")
    assert (
        evaluate_configuration(cfg, [cpe("o", "acme", "fw", "4.0"), cpe("h", "acme", "model_x")])
        is None
    )
    result = evaluate_configuration(
        cfg, [cpe("o", "acme", "fw", "4.0"), cpe("h", "acme", "model_y")]
    )
    assert result is not None and result.certain and result.criterion == firmware


def test_negated_vulnerable_node_is_never_evidence() -> None:
    cfg = config(node(FORTIOS, negate=True))
    assert evaluate_configuration(cfg, [cpe("o", "fortinet", "fortios", "7.0.1")]) is None


def test_negated_configuration_gives_no_finding() -> None:
    cfg = config(node(FORTIOS), negate=True)
    assert evaluate_configuration(cfg, [cpe("o", "fortinet", "fortios", "7.0.1")]) is None
    assert evaluate_configuration(cfg, [cpe("o", "fortinet", "fortios", "7.2.1")]) is None


def test_and_node_with_unknown_member_is_uncertain() -> None:
    firmware = CpeMatch(cpe("o", "acme", "fw"), version_end_excluding="5.0")
    other = CpeMatch(cpe("a", "acme", "agent"), version_end_excluding="2.0")
    cfg = config(node(firmware, other, operator="AND"))
    result = evaluate_configuration(cfg, [cpe("o", "acme", "fw", "4.0"), cpe("a", "acme", "agent")])
    assert result is not None and not result.certain
    assert (
        evaluate_configuration(
            cfg, [cpe("o", "acme", "fw", "4.0"), cpe("a", "acme", "agent", "2.1")]
        )
        is None
    )


def test_certain_configuration_wins_over_uncertain() -> None:
    dash = config(node(CpeMatch(cpe("o", "fortinet", "fortios", "-"))))
    ranged = config(node(FORTIOS))
    asset = [cpe("o", "fortinet", "fortios", "7.2.5")]
    uncertain = evaluate_configuration(dash, asset)
    assert uncertain is not None and not uncertain.certain
    best = evaluate_configurations([dash, ranged], asset)
    assert best is not None and best.certain and best.criterion == FORTIOS
    assert evaluate_configurations([dash], asset) == uncertain
    assert evaluate_configurations([], asset) is None


def test_cpe_set_indexes_and_keeps_invalid_names() -> None:
    names = CpeSet([cpe("o", "fortinet", "fortios", "7.2.5"), "not a cpe", cpe("a", "x", "y")])
    assert len(names) == 2 and names.invalid == ["not a cpe"]
    assert list(names)[0] == cpe("o", "fortinet", "fortios", "7.2.5")
    result = evaluate_configuration(config(node(FORTIOS)), names)
    assert result is not None and result.certain


def test_configuration_products_and_description() -> None:
    cfg = RUNNING_ON
    assert configuration_products(cfg) == frozenset({("acme", "pacs_viewer")})
    assert describe_criterion(ON_WINDOWS).endswith("(platform)")
    assert describe_criterion(APP) == f"{cpe('a', 'acme', 'pacs_viewer')} [< 3.0]"
    assert NA == "-"
