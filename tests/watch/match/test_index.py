"""The inventory index's group versions: bisecting sorted generic keys decides exactly as
reading each version (RangeSet.decide), for plain, series and exact ranges."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tocsin.model.advisory import VersionRange, VersionScheme
from tocsin.watch.match.cpe_config import CpeSet
from tocsin.watch.match.evidence import Profile
from tocsin.watch.match.index import GroupVersions
from tocsin.watch.match.versions import RangeSet

_PARTS = st.sampled_from(
    ["0", "1", "2", "4", "4", "10", "126", "00", "a", "rc1", "p3", "R3", "S2", "1", "2"]
)
_SEPARATORS = st.sampled_from([".", ".", ".", "-", ""])


@st.composite
def versions(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.tuples(_SEPARATORS, _PARTS), min_size=1, max_size=4))
    text = draw(st.sampled_from(["", "", "v", "1:"])) + draw(st.sampled_from(["1", "2", "5"]))
    return text + "".join(sep + part for sep, part in parts)


@st.composite
def bounds(draw: st.DrawFn) -> str:
    text = draw(versions())
    return text + draw(st.sampled_from(["", "", ".*", ".x", "*"]))


@st.composite
def ranges(draw: st.DrawFn) -> VersionRange:
    kind = draw(st.sampled_from(["exact", "span", "all"]))
    scheme = draw(st.sampled_from([VersionScheme.GENERIC] * 3 + [VersionScheme.SEMVER]))
    if kind == "exact":
        return VersionRange(exact=draw(bounds()), scheme=scheme)
    if kind == "all":
        return VersionRange(all_versions=True)
    optional = st.one_of(st.none(), bounds())
    return VersionRange(
        introduced=draw(optional),
        introduced_exclusive=draw(st.booleans()),
        fixed=draw(optional),
        last_affected=draw(optional),
        scheme=scheme,
    )


def profile(version: str | None) -> Profile:
    return Profile("acme", "widget", version, None, None, None, CpeSet(()), True)


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(st.one_of(st.none(), versions()), min_size=1, max_size=12),
    st.lists(ranges(), min_size=1, max_size=4),
)
def test_bisection_decides_as_each_version(
    texts: list[str | None], stated: list[VersionRange]
) -> None:
    profiles = [profile(text) for text in texts]
    group = GroupVersions.of(range(len(profiles)), profiles)
    compiled = RangeSet.of(tuple(stated))
    held, unknown = group.held(compiled)
    for pid in group.pids:
        inside, rng, _ = compiled.decide(profiles[pid].version)
        if inside is True:
            assert held.get(pid) is rng, (profiles[pid].version, stated)
        elif inside is False:
            assert pid not in held and pid not in unknown, (profiles[pid].version, stated)
        else:
            assert pid not in held and pid in unknown, (profiles[pid].version, stated)
    assert set(group.others) == {pid for pid, text in enumerate(texts) if text is None} | {
        pid for pid in group.others if texts[pid] is not None
    }


def test_a_kernel_series_is_bisected() -> None:
    """ "unaffected from 5.4.126 up to 5.4.*" (the kernel CNA's fixed branches)."""
    texts = ["5.4.125", "5.4.126", "5.4.300", "5.40.1", "5.10.2", "6.1.1"]
    profiles = [profile(text) for text in texts]
    group = GroupVersions.of(range(len(texts)), profiles)
    rng = VersionRange(introduced="5.4.126", last_affected="5.4.*")
    compiled = RangeSet.of((rng,))
    assert compiled.tests[0].plain is not None
    held, unknown = group.held(compiled)
    assert {texts[pid] for pid in held} == {"5.4.126", "5.4.300"}
    assert not unknown


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(st.one_of(st.none(), versions()), min_size=1, max_size=12),
    st.lists(ranges(), min_size=1, max_size=6),
)
def test_blocks_say_what_held_says(texts: list[str | None], stated: list[VersionRange]) -> None:
    """Blocks (each range with the profiles it holds first, then those in no range) are
    given only when every range is plain, and then agree with ``held`` profile by profile."""
    profiles = [profile(text) for text in texts]
    group = GroupVersions.of(range(len(profiles)), profiles)
    compiled = RangeSet.of(tuple(stated))
    blocks = group.blocks(compiled)
    plain = all(test.always or test.plain is not None for test in compiled.tests)
    assert (blocks is not None) == plain
    if blocks is None:
        return
    found, rest = blocks
    held, unknown = group.held(compiled)
    assert not unknown
    said = {pid: rng for rng, pids in found for pid in pids}
    assert sum(len(pids) for _, pids in found) == len(said)  # each profile in one block
    assert said == held
    assert all(pids for _, pids in found)
    assert list(rest) == [pid for pid in group.pids if pid not in held]
    ranks = [next(i for i, t in enumerate(compiled.tests) if t.rng is rng) for rng, _ in found]
    assert ranks == sorted(ranks)  # in the order of the ranges


def test_blocks_first_range_wins_on_overlap() -> None:
    """Overlapping ranges: a version belongs to the first range that holds it."""
    texts = ["5.4.1", "5.4.126", "5.10.2", "6.1.1", "6.2"]
    profiles = [profile(text) for text in texts]
    group = GroupVersions.of(range(len(texts)), profiles)
    first = VersionRange(introduced="5.4.100", fixed="6.0")
    second = VersionRange(all_versions=True)
    blocks = group.blocks(RangeSet.of((first, second)))
    assert blocks is not None
    found, rest = blocks
    assert [(rng, [texts[pid] for pid in pids]) for rng, pids in found] == [
        (first, ["5.4.126", "5.10.2"]),
        (second, ["5.4.1", "6.1.1", "6.2"]),
    ]
    assert not rest


@st.composite
def group_and_ranges(draw: st.DrawFn) -> tuple[list[str | None], list[VersionRange]]:
    """Versions, and ranges whose bounds are often those very versions (where inclusive
    and exclusive bounds differ)."""
    texts = draw(st.lists(st.one_of(st.none(), versions()), min_size=1, max_size=12))
    known = [text for text in texts if text is not None]
    bound = st.one_of(st.none(), bounds(), *([st.sampled_from(known)] * 2 if known else []))
    span = st.builds(
        VersionRange,
        introduced=bound,
        introduced_exclusive=st.booleans(),
        fixed=bound,
        last_affected=bound,
    )
    exact = st.builds(VersionRange, exact=bound.filter(lambda b: b is not None))
    stated = draw(st.lists(st.one_of(span, span, exact, ranges()), min_size=1, max_size=8))
    return texts, stated


@settings(max_examples=1500, deadline=None)
@given(group_and_ranges())
def test_blocks_by_version_and_by_range_agree(
    drawn: tuple[list[str | None], list[VersionRange]],
) -> None:
    """The two ways to cut a group into blocks, chosen by which is cheaper (one bisection
    of the ranges' segments per version, or bisections of the versions per range), say
    the same blocks in the same order."""
    texts, stated = drawn
    profiles = [profile(text) for text in texts]
    group = GroupVersions.of(range(len(profiles)), profiles)
    compiled = RangeSet.of(tuple(stated))
    if compiled.bounds is None or compiled.segments is None:
        return
    by_range = group._blocks_by_range(compiled.bounds)
    by_version = group._blocks_by_version(compiled.bounds, compiled.segments)
    assert [(rng, list(pids)) for rng, pids in by_version[0]] == [
        (rng, list(pids)) for rng, pids in by_range[0]
    ]
    assert list(by_version[1]) == list(by_range[1])
