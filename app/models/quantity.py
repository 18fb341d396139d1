"""Kubernetes resource quantities (``500m``, ``2``, ``1Gi``, ``1e3``), parsed exactly.

The grammar is the one of ``k8s.io/apimachinery/pkg/api/resource``::

    <quantity> ::= <sign>? <number> <suffix>?
    <number>   ::= <digits> | <digits> "." <digits>? | "." <digits>
    <suffix>   ::= n | u | m | k | M | G | T | P | E          (decimal SI)
                 | Ki | Mi | Gi | Ti | Pi | Ei                (binary SI)
                 | ("e" | "E") <sign>? <digits>               (decimal exponent)

Like Kubernetes, a non-zero value finer than one nano-unit is rounded up to ``1n``
and values above ``2**63 - 1`` are capped there. Unlike Kubernetes we reject
negative quantities (any leading ``-``): we only ever use quantities as sizes.

Pure functions, no I/O.
"""

from __future__ import annotations

import functools
import json
import re
from decimal import ROUND_CEILING, Decimal, localcontext

__all__ = ["PATTERN", "InvalidQuantity", "format_quantity", "parse_quantity"]

_EXAMPLES = "use forms like 500m, 2, 1Gi, 10Gi, 1Ti"

_DECIMAL_SUFFIXES = {
    "n": -9,
    "u": -6,
    "m": -3,
    "": 0,
    "k": 3,
    "M": 6,
    "G": 9,
    "T": 12,
    "P": 15,
    "E": 18,
}
_BINARY_SUFFIXES = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}

_NUMBER = r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+"
_POWER = r"[+-]?[0-9]+"
_SHAPE = re.compile(rf"(?P<sign>[+-]?)(?P<number>{_NUMBER})(?P<suffix>.*)", re.DOTALL)
_EXPONENT = re.compile(rf"[eE](?P<exp>{_POWER})")
# The same grammar as one regular expression, for descriptions (JSON Schema ``pattern``):
# only what parse_quantity accepts, so no sign but an optional "+".
_SUFFIXES = "|".join(
    [*(re.escape(s) for s in _DECIMAL_SUFFIXES if s), *_BINARY_SUFFIXES, f"[eE]{_POWER}"]
)
PATTERN = rf"^\+?(?:{_NUMBER})(?:{_SUFFIXES})?$"

_NANO = Decimal("1e-9")
_MAX = Decimal(2**63 - 1)  # Kubernetes caps every quantity at the largest int64
_MAX_ADJUSTED = len(str(2**63 - 1))  # beyond 10**this any non-zero value is over the cap
_MIN_ADJUSTED = -10  # below 10**this any non-zero value rounds up to 1n


class InvalidQuantity(ValueError):
    """A string that is not a (non-negative) Kubernetes quantity."""


def _invalid(text: str, reason: str) -> InvalidQuantity:
    shown = json.dumps(text, ensure_ascii=False)
    return InvalidQuantity(f"{shown} is not a valid Kubernetes quantity: {reason} ({_EXAMPLES})")


def _suffix_scale(text: str, suffix: str) -> tuple[int, int]:
    """Return ``(base, exponent)`` for a suffix: 10**exponent or 2**exponent."""
    if suffix in _DECIMAL_SUFFIXES:
        return 10, _DECIMAL_SUFFIXES[suffix]
    if suffix in _BINARY_SUFFIXES:
        return 2, _BINARY_SUFFIXES[suffix]
    exponent = _EXPONENT.fullmatch(suffix)
    if exponent is not None:
        digits = exponent["exp"].lstrip("+-").lstrip("0")
        if len(digits) > 6:
            # Far past the cap (or the 1n floor) Kubernetes clamps to either way; also
            # beyond what int() converts.
            return 10, -(10**7) if exponent["exp"].startswith("-") else 10**7
        return 10, int(exponent["exp"])
    if suffix.startswith("."):
        raise _invalid(text, "a number has at most one decimal point")
    raise _invalid(
        text,
        f"unknown suffix {json.dumps(suffix, ensure_ascii=False)}; the allowed suffixes are"
        " n u m k M G T P E, Ki Mi Gi Ti Pi Ei, or an exponent such as e3",
    )


def _scaled(mantissa: Decimal, base: int, exponent: int) -> Decimal:
    """``mantissa * base**exponent``, capped and rounded the way Kubernetes does."""
    if mantissa == 0:
        return Decimal(0)  # also turns "0.000" into a plain 0
    if base == 10:
        magnitude = mantissa.adjusted() + exponent
        if magnitude > _MAX_ADJUSTED:
            return _MAX
        if magnitude < _MIN_ADJUSTED:
            return _NANO
    with localcontext() as ctx:
        ctx.prec = len(mantissa.as_tuple().digits) + 2 * _MAX_ADJUSTED + 10
        value = mantissa.scaleb(exponent) if base == 10 else mantissa * (2**exponent)
        value = min(value, _MAX)
        if value.as_tuple().exponent < -9:  # type: ignore[operator]
            value = value.quantize(_NANO, rounding=ROUND_CEILING)
        value = value.normalize()  # canonical form: 0.5 rather than 0.500 ...
        if value.as_tuple().exponent > 0:  # type: ignore[operator]
            value = value.quantize(Decimal(1))  # ... and 1000 rather than 1E+3
    return value


def parse_quantity(text: str) -> Decimal:
    """Parse a Kubernetes quantity into its exact value (``"500m"`` -> ``Decimal("0.5")``).

    Raises :class:`InvalidQuantity` for anything Kubernetes would not accept, and for
    negative quantities.
    """
    if not isinstance(text, str):
        raise InvalidQuantity(
            f"a Kubernetes quantity must be a string, not {type(text).__name__} {text!r}"
            f" ({_EXAMPLES})"
        )
    if len(text) <= _REMEMBERED_LENGTH:
        return _remembered(text)
    return _parsed(text)


def _parsed(text: str) -> Decimal:
    if text == "":
        raise _invalid(text, "it is empty")
    if any(ch.isspace() for ch in text):
        raise _invalid(text, "it contains whitespace")
    match = _SHAPE.fullmatch(text)
    if match is None:
        raise _invalid(text, "it must start with a number such as 2, 0.5 or .5")
    if match["sign"] == "-":
        raise _invalid(text, "negative quantities are not allowed")
    base, exponent = _suffix_scale(text, match["suffix"])
    return _scaled(Decimal(match["number"]), base, exponent)


# A few sizes ("1", "2Gi", "10Gi") are parsed over and over: by each create's
# validation, its quota check, manifests and bill, some 13 µs each (the exact
# arithmetic). Valid texts of a usual length are remembered (a Decimal cannot be
# changed, so one value serves every caller); a refusal is not, nor is a long text.
_REMEMBERED_LENGTH = 32
_remembered = functools.lru_cache(maxsize=4096)(_parsed)


# Suffixes a formatted quantity may take: fractions of a unit, and (for byte counts)
# the decimal and binary multiples.
_FRACTIONS = (("m", -3), ("u", -6), ("n", -9))
_DECIMAL_MULTIPLES = (("E", 18), ("P", 15), ("T", 12), ("G", 9), ("M", 6), ("k", 3))


def format_quantity(value: Decimal, *, binary: bool) -> str:
    """A quantity as Kubernetes would write it, exactly (``parse_quantity`` reads it
    back to ``value``): the shortest of the plain number and its whole decimal multiple
    (``"5"``, ``"2k"``, ``"3G"``), with ``binary`` also its whole binary multiple
    (``"10Gi"``, ``"1536Mi"``); fractions in ``m``, ``u`` or ``n`` (``"1500m"``). Values
    finer than ``1n`` are rounded up to it, as Kubernetes does."""
    if value < 0:
        raise ValueError(f"quantities are never negative: {value}")
    if value == value.to_integral_value():
        whole = int(value)
        if whole == 0:
            return "0"
        forms = [str(whole)]
        if binary:
            forms += [
                f"{whole >> power}{suffix}"
                for suffix, power in reversed(_BINARY_SUFFIXES.items())
                if whole % (1 << power) == 0
            ][:1]
        forms += [
            f"{whole // 10**power}{suffix}"
            for suffix, power in _DECIMAL_MULTIPLES
            if whole % 10**power == 0
        ][:1]
        return min(forms, key=len)
    for suffix, power in _FRACTIONS:
        scaled = value.scaleb(-power)
        if scaled == scaled.to_integral_value():
            return f"{int(scaled)}{suffix}"
    return f"{int(value.scaleb(9).to_integral_value(rounding=ROUND_CEILING))}n"
