"""Load Sigma rules from folders and release archives; every unusable rule is a problem.

Input is hostile: files and archive members are size-limited and counted, archives are read
in memory member by member (never extracted), YAML is parsed with a safe loader and nothing
in a rule is ever executed. A file that cannot be read or parsed, a rule pySigma rejects, a
duplicate id or an unresolved correlation reference becomes a :class:`RuleProblem` naming
the file and the reason; loading goes on with the other rules.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError, SigmaRuleLocation
from sigma.filters import SigmaFilter
from sigma.rule import SigmaRule

from tocsin.errors import InputError, Location

RULE_SUFFIXES = (".yml", ".yaml")

# PyYAML's safe loader in C (libyaml) when PyYAML was built with it: the same documents as
# the pure-Python SafeLoader pySigma's from_yaml uses, about ten times faster (reading
# SigmaHQ's 2,535 Windows rules: most of the loading time).
_SAFE_LOADER: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = getattr(
    yaml, "CSafeLoader", yaml.SafeLoader
)


@dataclass(frozen=True)
class RuleLimits:
    """Bounds on what a rule source may make us read."""

    max_file_bytes: int = 1024 * 1024
    max_files: int = 20_000
    max_archive_bytes: int = 200 * 1024 * 1024  # uncompressed total of an archive
    max_archive_members: int = 50_000


@dataclass(frozen=True)
class RuleProblem:
    """A rule (or a file of rules) that cannot be used, and why."""

    file: str
    reason: str
    rule_id: str | None = None
    title: str | None = None

    @property
    def location(self) -> Location:
        return Location(file=self.file)

    def __str__(self) -> str:
        what = f" ({self.rule_id})" if self.rule_id else ""
        return f"{self.file}{what}: {self.reason}"


Rule = SigmaRule | SigmaCorrelationRule


@dataclass
class RuleSet:
    """Loaded rules in load order, and the problems met while loading them."""

    rules: list[Rule] = field(default_factory=list)
    problems: list[RuleProblem] = field(default_factory=list)

    def by_id(self) -> dict[str, Rule]:
        return {str(rule.id): rule for rule in self.rules if rule.id is not None}


def rule_file(rule: Rule) -> str:
    source = rule.source
    return str(source.path) if source is not None and source.path is not None else "<memory>"


def _documents(
    path: Path, limits: RuleLimits, problems: list[RuleProblem]
) -> Iterator[tuple[str, bytes]]:
    """(name, content) of every rule file under ``path`` (a folder, a file or a .zip)."""
    if path.is_dir():
        count = 0
        for file in sorted(path.rglob("*")):
            if file.suffix.lower() not in RULE_SUFFIXES or not file.is_file():
                continue
            count += 1
            if count > limits.max_files:
                problems.append(RuleProblem(str(path), f"more than {limits.max_files} files"))
                return
            size = file.stat().st_size
            if size > limits.max_file_bytes:
                problems.append(RuleProblem(str(file), f"file too large ({size} bytes)"))
                continue
            yield str(file), file.read_bytes()
    elif path.suffix.lower() == ".zip":
        yield from _archive(path, limits, problems)
    elif path.is_file():
        size = path.stat().st_size
        if size > limits.max_file_bytes:
            problems.append(RuleProblem(str(path), f"file too large ({size} bytes)"))
            return
        yield str(path), path.read_bytes()
    else:
        raise InputError("no such rule file or folder", Location(file=str(path)))


def _archive(
    path: Path, limits: RuleLimits, problems: list[RuleProblem]
) -> Iterator[tuple[str, bytes]]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"not a readable zip archive: {exc}", Location(file=str(path))) from exc
    with archive:
        members = archive.infolist()
        if len(members) > limits.max_archive_members:
            raise InputError(
                f"archive has {len(members)} members (limit {limits.max_archive_members})",
                Location(file=str(path)),
            )
        total = 0
        for info in members:
            name = f"{path}!{info.filename}"
            if info.is_dir() or not info.filename.lower().endswith(RULE_SUFFIXES):
                continue
            if info.file_size > limits.max_file_bytes:
                problems.append(RuleProblem(name, f"file too large ({info.file_size} bytes)"))
                continue
            total += info.file_size
            if total > limits.max_archive_bytes:
                problems.append(
                    RuleProblem(str(path), f"archive larger than {limits.max_archive_bytes} bytes")
                )
                return
            try:
                with archive.open(info) as member:
                    # Read one byte past the limit: a lying header cannot make us read more.
                    content = member.read(limits.max_file_bytes + 1)
            except (zipfile.BadZipFile, OSError, RuntimeError, ValueError) as exc:
                problems.append(RuleProblem(name, f"unreadable archive member: {exc}"))
                continue
            if len(content) > limits.max_file_bytes:
                problems.append(RuleProblem(name, "file larger than its archive header says"))
                continue
            yield name, content


def _parse(name: str, content: bytes, problems: list[RuleProblem]) -> list[Rule]:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(RuleProblem(name, f"not UTF-8: {exc}"))
        return []
    try:
        collection = SigmaCollection.from_dicts(
            list(yaml.load_all(text, Loader=_SAFE_LOADER)),
            collect_errors=True,
            source=SigmaRuleLocation(Path(name)),
            resolve_references=False,
        )
    except (SigmaError, ValueError) as exc:  # PyYAML errors are ValueErrors' cousins
        problems.append(RuleProblem(name, f"cannot parse: {exc}"))
        return []
    except Exception as exc:  # noqa: BLE001 - yaml.YAMLError and friends: any is a bad file
        problems.append(RuleProblem(name, f"cannot parse: {type(exc).__name__}: {exc}"))
        return []
    rules: list[Rule] = []
    for error in collection.errors:
        if not any(error in getattr(rule, "errors", []) for rule in collection.rules):
            problems.append(RuleProblem(name, str(error)))
    for rule in collection.rules:
        if not isinstance(rule, SigmaRule | SigmaCorrelationRule):
            problems.append(RuleProblem(name, "filter rules are not supported"))
            continue
        if rule.errors:
            reasons = "; ".join(str(e) for e in rule.errors)
            problems.append(RuleProblem(name, reasons, _id(rule), rule.title))
            continue
        if rule.id is None:
            problems.append(RuleProblem(name, "rule has no id", None, rule.title))
            continue
        rules.append(rule)
    return rules


def _id(rule: Rule) -> str | None:
    return str(rule.id) if rule.id is not None else None


def load_rules(paths: Iterable[Path], limits: RuleLimits | None = None) -> RuleSet:
    """Every usable rule under ``paths``, with a problem for each one that is not."""
    limits = limits or RuleLimits()
    result = RuleSet()
    seen: dict[str, str] = {}
    for path in paths:
        for name, content in _documents(Path(path), limits, result.problems):
            for rule in _parse(name, content, result.problems):
                rule_id = str(rule.id)
                if rule_id in seen:
                    result.problems.append(
                        RuleProblem(name, f"duplicate id, first in {seen[rule_id]}", rule_id)
                    )
                    continue
                seen[rule_id] = name
                result.rules.append(rule)
    _resolve_correlations(result)
    return result


def _resolve_correlations(result: RuleSet) -> None:
    """Link correlation rules to the rules they name; drop (as problems) those that cannot."""
    members: list[SigmaRule | SigmaCorrelationRule | SigmaFilter] = list(result.rules)
    collection = SigmaCollection(members, resolve_references=False)
    kept: list[Rule] = []
    for rule in result.rules:
        if isinstance(rule, SigmaCorrelationRule):
            try:
                rule.resolve_rule_references(collection)
            except SigmaError as exc:
                result.problems.append(
                    RuleProblem(rule_file(rule), f"correlation: {exc}", _id(rule), rule.title)
                )
                continue
        kept.append(rule)
    result.rules = kept
