"""Resource quantities (``500m``, ``2``, ``1Gi``, ``1e3``) as the API server reads them.

The emulator's own parser, as a real kube-apiserver has its own
(``k8s.io/apimachinery/pkg/api/resource``): the emulator judges what clients send it,
so it must not borrow the judgement of the client it is testing. The grammar::

    <quantity> ::= <sign>? <number> <suffix>?
    <number>   ::= <digits> | <digits> "." <digits>? | "." <digits>
    <suffix>   ::= n | u | m | k | M | G | T | P | E          (decimal SI)
                 | Ki | Mi | Gi | Ti | Pi | Ei                (binary SI)
                 | ("e" | "E") <sign>? <digits>               (decimal exponent)

As in Kubernetes, a non-zero magnitude finer than one nano-unit is rounded up to
``1n`` and magnitudes above ``2**63 - 1`` are capped there; negative quantities parse
(whether one is allowed is the field's rule, not the grammar's).
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, Decimal, localcontext

__all__ = ["format_quantity", "is_binary", "parse_quantity"]

_QUANTITY = re.compile(
    r"(?P<sign>[+-]?)(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
    r"(?P<suffix>[numkMGTPE]|[KMGTPE]i|[eE](?P<exponent>[+-]?[0-9]+))?"
)
_DECIMAL_SUFFIXES = {"n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY_SUFFIXES = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_NANO = Decimal("1e-9")
_MAX = Decimal(2**63 - 1)  # the largest int64
_MAX_DIGITS = len(str(2**63 - 1))  # a magnitude of 10**this or more is over the cap
_MIN_ADJUSTED = -10  # below 10**this any non-zero magnitude rounds up to 1n


def _exponent(digits: str) -> int:
    # An exponent of more than six digits is far past the cap or the 1n floor, and
    # may be longer than int() converts: clamp it.
    if len(digits.lstrip("+-").lstrip("0")) > 6:
        return -(10**7) if digits.startswith("-") else 10**7
    return int(digits)


def _magnitude(number: Decimal, *, base: int, exponent: int) -> Decimal:
    if number == 0:
        return Decimal(0)
    if base == 10:
        adjusted = number.adjusted() + exponent
        if adjusted > _MAX_DIGITS:
            return _MAX
        if adjusted < _MIN_ADJUSTED:
            return _NANO
    with localcontext() as context:
        context.prec = len(number.as_tuple().digits) + 2 * _MAX_DIGITS + 10
        value = number.scaleb(exponent) if base == 10 else number * 2**exponent
        value = min(value, _MAX)
        if value.as_tuple().exponent < -9:  # type: ignore[operator]
            value = value.quantize(_NANO, rounding=ROUND_CEILING)
    return value


def parse_quantity(text: str) -> Decimal:
    """The exact value of a quantity (``"500m"`` -> ``Decimal("0.5")``); ValueError
    for anything Kubernetes would not parse."""
    match = _QUANTITY.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{text!r} is not a Kubernetes quantity")
    suffix = match["suffix"] or ""
    if match["exponent"] is not None:
        base, exponent = 10, _exponent(match["exponent"])
    elif suffix in _BINARY_SUFFIXES:
        base, exponent = 2, _BINARY_SUFFIXES[suffix]
    else:
        base, exponent = 10, _DECIMAL_SUFFIXES.get(suffix, 0)
    magnitude = _magnitude(Decimal(match["number"]), base=base, exponent=exponent)
    # copy_negate keeps the sign of "-0", so a caller can tell it was written with one.
    return magnitude.copy_negate() if match["sign"] == "-" else magnitude


def is_binary(text: str) -> bool:
    """Whether a quantity is written with a binary suffix (``Ki`` .. ``Ei``): Kubernetes
    keeps that format when it adds quantities up, so sums of ``Gi`` read as ``Gi``."""
    return isinstance(text, str) and text.endswith("i")


_DECIMAL_BY_EXPONENT = sorted(
    ((exponent, suffix) for suffix, exponent in _DECIMAL_SUFFIXES.items()), reverse=True
)
_BINARY_BY_EXPONENT = sorted(
    ((exponent, suffix) for suffix, exponent in _BINARY_SUFFIXES.items()), reverse=True
)


def format_quantity(value: Decimal, *, binary: bool) -> str:
    """The canonical text of a quantity, as ``resource.Quantity.String()`` writes it:
    the largest suffix that leaves a whole mantissa (``1500m``, ``2k``, ``24Gi``,
    ``1536Mi``); binary only for whole values of at least 1024, as Kubernetes does."""
    sign = "-" if value < 0 else ""
    value = abs(value)
    if value == 0:
        return "0"
    if binary and value >= 1024 and value == value.to_integral_value():
        whole = int(value)
        for exponent, suffix in _BINARY_BY_EXPONENT:
            if whole % 2**exponent == 0:
                return f"{sign}{whole >> exponent}{suffix}"
        return f"{sign}{whole}"
    for exponent, suffix in [*_DECIMAL_BY_EXPONENT[:6], (0, ""), *_DECIMAL_BY_EXPONENT[6:]]:
        mantissa = value.scaleb(-exponent)
        if mantissa == mantissa.to_integral_value():
            return f"{sign}{int(mantissa)}{suffix}"
    return f"{sign}{int(value.scaleb(9).to_integral_value())}n"
