"""Advisories to and from JSON, for the ``advisories.data`` column.

The encoding follows the dataclasses of :mod:`tocsin.model.advisory` field by field, read
from their type hints, so that a field added to the model is stored without touching this
module: tuples become lists, datetimes ISO 8601 strings, enums their value, and fields
that hold their default are left out (most of an NVD record is defaults). Decoding is
strict on types (a stored document is trusted but checked) and tolerant of change: keys it
does not know are ignored and missing keys take the field's default. ``v`` is the version
of the shape.
"""

from __future__ import annotations

import dataclasses
import math
import types
from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import Any, Union, get_args, get_origin, get_type_hints

from tocsin.errors import StoreError
from tocsin.model.advisory import Advisory

__all__ = ["FORMAT_VERSION", "advisory_from_json", "advisory_to_json"]

FORMAT_VERSION = 1

Encoder = Callable[[Any], Any]
Decoder = Callable[[Any], Any]


def advisory_to_json(advisory: Advisory) -> dict[str, Any]:
    """The advisory as JSON-compatible data (finite numbers only)."""
    data: dict[str, Any] = _ADVISORY[0](advisory)
    data["v"] = FORMAT_VERSION
    return data


def advisory_from_json(data: dict[str, Any]) -> Advisory:
    """The advisory ``advisory_to_json`` wrote; StoreError when the data is not one."""
    version = data.get("v", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise StoreError(f"stored advisory has format version {version!r}, not {FORMAT_VERSION}")
    try:
        advisory: Advisory = _ADVISORY[1](data)
    except (TypeError, ValueError) as exc:
        where = data.get("id", "?")
        raise StoreError(f"stored advisory {where!r} cannot be read: {exc}") from exc
    return advisory


# -- codecs, built once per type from the type hints ----------------------------------
_CODECS: dict[Any, tuple[Encoder, Decoder]] = {}


def _codec(hint: Any) -> tuple[Encoder, Decoder]:
    if hint not in _CODECS:
        _CODECS[hint] = _build(hint)
    return _CODECS[hint]


def _build(hint: Any) -> tuple[Encoder, Decoder]:
    origin = get_origin(hint)
    if origin is Union or origin is types.UnionType:
        return _optional(hint)
    if origin is tuple:
        return _sequence(get_args(hint)[0])
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _dataclass(hint)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return _enum(hint)
    if hint is datetime:
        return datetime.isoformat, _decode_datetime
    if hint is float:
        return _encode_float, _decode_float
    if hint in (str, bool, int):
        return _identity, _checked(hint)
    raise TypeError(f"no JSON codec for {hint!r}")


def _identity(value: Any) -> Any:
    return value


def _checked(kind: type) -> Decoder:
    def decode(value: Any) -> Any:
        if type(value) is not kind:
            raise TypeError(f"expected {kind.__name__}, got {value!r}")
        return value

    return decode


def _encode_float(value: float) -> float:
    if not math.isfinite(value):
        raise StoreError(f"cannot store the non-finite number {value!r}")
    return value


def _decode_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {value!r}")
    return float(value)


def _decode_datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO 8601 string, got {value!r}")
    return datetime.fromisoformat(value)


def _optional(hint: Any) -> tuple[Encoder, Decoder]:
    concrete = [option for option in get_args(hint) if option is not type(None)]
    if len(concrete) != 1:
        raise TypeError(f"no JSON codec for {hint!r}")
    encode, decode = _codec(concrete[0])
    return (
        lambda value: None if value is None else encode(value),
        lambda value: None if value is None else decode(value),
    )


def _sequence(item: Any) -> tuple[Encoder, Decoder]:
    encode, decode = _codec(item)

    def decode_all(value: Any) -> tuple[Any, ...]:
        if not isinstance(value, list):
            raise TypeError(f"expected a list, got {value!r}")
        return tuple(decode(v) for v in value)

    return (lambda value: [encode(v) for v in value]), decode_all


def _enum(kind: type[Enum]) -> tuple[Encoder, Decoder]:
    return (lambda value: value.value), kind


_NO_DEFAULT = object()


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return _NO_DEFAULT


def _dataclass(cls: type) -> tuple[Encoder, Decoder]:
    """Fields that hold their default are left out; the decoder fills them back in."""
    hints = get_type_hints(cls)
    plan = [(f.name, *_codec(hints[f.name]), _default(f)) for f in dataclasses.fields(cls)]

    def encode(value: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, encode_field, _, default in plan:
            item = getattr(value, name)
            if item is default or (type(item) is type(default) and item == default):
                continue
            out[name] = encode_field(item)
        return out

    def decode(data: Any) -> Any:
        if not isinstance(data, dict):
            raise TypeError(f"expected an object for {cls.__name__}, got {data!r}")
        try:
            return cls(**{name: dec(data[name]) for name, _, dec, _ in plan if name in data})
        except TypeError as exc:
            raise TypeError(f"{cls.__name__}: {exc}") from None

    return encode, decode


_ADVISORY = _codec(Advisory)
