"""Editions and releases in product names (tocsin.watch.match.editions): what names the
product, what names a branch of it, and what only names a licensing tier."""

from __future__ import annotations

import pytest

from tocsin.watch.match.editions import NameParts, split_name


@pytest.mark.parametrize(
    ("name", "base", "release"),
    [
        # Editions: licensing tiers advisories do not list apart.
        ("Windows Server 2016 Essentials", "Windows Server 2016", None),
        ("Windows Server 2025 Datacenter Evaluation", "Windows Server 2025", None),
        ("Windows 10 Éducation", "Windows 10", None),
        ("Windows 11 Famille", "Windows 11", None),
        ("Windows 11 Pro for Workstations", "Windows 11", None),
        ("Windows 10 IoT Enterprise", "Windows 10", None),
        ("Windows 10 Pro N", "Windows 10", None),
        ("SQL Server 2022 Enterprise", "SQL Server 2022", None),
        ("Office Home and Business 2019", "Office Home and Business 2019", None),
        ("GitLab Community Edition", "GitLab", None),
        # Releases: branches advisories list one by one, normalised.
        ("Windows 11 Éducation 24H2", "Windows 11", "24h2"),
        ("Windows 11 Version 25H2 for ARM64-based Systems", "Windows 11", "25h2"),
        ("Windows 10 Version 21H2 pour systèmes 32 bits", "Windows 10", "21h2"),
        ("Windows Server 2025, 24H2 Edition", "Windows Server 2025", "24h2"),
        ("Exchange Server 2016 Cumulative Update 23", "Exchange Server 2016", "cu23"),
        ("Exchange Server 2016 CU23", "Exchange Server 2016", "cu23"),
        ("Exchange Server 2016 CU 23", "Exchange Server 2016", "cu23"),
        ("Windows Server 2008 Service Pack 2", "Windows Server 2008", "sp2"),
        ("Windows 7 Professional SP1", "Windows 7", "sp1"),
        ("windows_10_1607", "windows_10", "1607"),
        ("Windows 10 2004", "Windows 10", "2004"),
        ("Foo Appliance 4.14", "Foo Appliance", "4.14"),
        # LTSB/LTSC releases are the semi-annual releases of the same build.
        ("Windows 10 Enterprise LTSB 2016", "Windows 10", "1607"),
        ("Windows 10 IoT Enterprise LTSC 2021", "Windows 10", "21h2"),
    ],
)
def test_base_and_release(name: str, base: str, release: str | None) -> None:
    parts = split_name(name)
    assert (parts.base, parts.release) == (base, release)


@pytest.mark.parametrize(
    "name",
    [
        "Firefox ESR",  # its own release line and fixes
        "FortiClient EMS",
        "M-Files Web",  # another product than M-Files
        ".NET Core",
        "VMware Cloud Foundation",
        "Exchange Online",
        "Confluence Server",
        "Windows Server 2012 R2",  # R2 is a product, not a release
        "Windows Server 2019",  # a year is part of the name
        "Skype for Business",
        "SharePoint Server Subscription Edition",
        "Pro",  # a name made only of a qualifier is its own base
    ],
)
def test_product_words_are_not_editions(name: str) -> None:
    assert split_name(name) == NameParts(name)


def test_remarks_in_parentheses_are_dropped() -> None:
    parts = split_name("Windows Server 2016 (Server Core installation)")
    assert parts == NameParts("Windows Server 2016")
    assert not parts.qualified
    assert split_name("Windows Server 2016 Standard").qualified
