"""Vendor and product keys (tocsin.inventory.normalise), as the watch engine relies on them:
text mis-decoded by a feed repaired, legal forms dropped, a vendor's names (and brands)
stripped from product names unless what is left only says what kind of thing it is."""

from __future__ import annotations

import pytest

from tocsin.inventory.normalise import AliasTable, fold, load_aliases, repair_text


@pytest.fixture(scope="module")
def aliases() -> AliasTable:
    table = load_aliases()
    table.add(
        {
            "vendors": {"acme": ["Acme Corp", "Roadrunner Devices"]},  # a brand it bought
            "products": {},
        },
        "test",
    )
    return table


def test_text_decoded_with_the_wrong_code_page_is_repaired() -> None:
    assert repair_text("Ã‰lectro MÃ©dical") == "Électro Médical"
    assert fold("SpectraLinkâ„¢ Monitor") == "spectralink_monitor"
    assert fold("Acme® Pump©") == "acme_pump"
    assert repair_text("Ã  la carte, déjà vu") == "Ã  la carte, déjà vu"  # not mojibake


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("Globex & Co", "globex"),
        ("Globex and Company", "globex"),
        ("Globex, Inc.", "globex"),
        ("Globex Pty Ltd", "globex"),
    ],
)
def test_legal_forms_and_their_connectors_are_dropped(written: str, key: str) -> None:
    assert fold(written) == key


@pytest.mark.parametrize(
    ("product", "key"),
    [
        ("Acme Vista Monitor", "vista_monitor"),  # the vendor's name leads: dropped
        ("Roadrunner Devices Vista Monitor", "vista_monitor"),  # a brand of the vendor too
        ("Acme Roadrunner Devices Vista Monitor", "vista_monitor"),
        ("Vista Monitor", "vista_monitor"),
        ("Acme", "acme"),  # a product named after its vendor keeps the name
        ("Acme Gateway", "acme_gateway"),  # what is left is generic: the vendor stays
        ("Gateway", "acme_gateway"),  # … and a generic name gets it
        ("Acme LMS", "acme_lms"),
    ],
)
def test_product_keys_under_a_vendor(aliases: AliasTable, product: str, key: str) -> None:
    assert aliases.product_key("acme", product) == key


def test_a_vendor_alias_that_would_leave_a_generic_name_is_not_the_one_stripped() -> None:
    table = load_aliases()  # "Microsoft Windows" is also an alias of the vendor
    assert table.product_key("microsoft", "Microsoft Windows Server 2022") == "windows_server_2022"


def test_another_vendor_generic_product_keeps_its_own_key(aliases: AliasTable) -> None:
    assert aliases.product_key("globex", "Gateway") == "globex_gateway"
    assert aliases.product_key("acme", "Gateway") != aliases.product_key("globex", "Gateway")
