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


_DECIMAL_CANONICAL = sorted(
    ((exponent, suffix) for suffix, exponent in _DECIMAL_SUFFIXES.items()), reverse=True
)
_BINARY_CANONICAL = sorted(
    ((exponent, suffix) for suffix, exponent in _BINARY_SUFFIXES.items()), reverse=True
)


def format_quantity(value: Decimal, *, binary: bool) -> str:
    """The canonical text of a non-negative quantity, as Kubernetes writes it
    (``resource.Quantity.String()``): the largest suffix that leaves a whole number
    (``"5"``, ``"1500m"``, ``"2k"``, ``"10Gi"``, ``"1536Mi"``, ``"1Ti"``). ``binary``
    asks for ``Ki`` .. ``Ei``; like Kubernetes, only whole values of at least 1024 are
    written so, the others in decimal (``512``, ``500m``).
    ``parse_quantity(format_quantity(v, ...)) == v`` for every value parse_quantity makes.
    """
    if value < 0:
        raise ValueError(f"a quantity is never negative, got {value}")
    if value == 0:
        return "0"
    if binary and value >= 1024 and value == value.to_integral_value():
        whole = int(value)
        for exponent, suffix in _BINARY_CANONICAL:
            if whole % 2**exponent == 0:
                return f"{whole >> exponent}{suffix}"
    for exponent, suffix in _DECIMAL_CANONICAL:  # "" (10**0) among them, from E down to n
        mantissa = value.scaleb(-exponent)
        if mantissa == mantissa.to_integral_value():
            return f"{int(mantissa)}{suffix}"
    return f"{int(value.scaleb(9).to_integral_value())}n"  # finer than 1n: parse rounds up
