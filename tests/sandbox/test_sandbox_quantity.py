"""The sandbox's own quantity parser (kube_sandbox/quantity.py).

The sandbox parses quantities itself, as a real API server does, rather than borrowing
the control plane's parser. What it accepts as a size must stay what the control plane
accepts (the emulator refused exactly those before it had its own parser): checked
here against app.kube.quantity on the grammar's corner cases and on generated text.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.kube.quantity import InvalidQuantity
from app.kube.quantity import parse_quantity as control_plane_parse
from kube_sandbox.quantity import parse_quantity
from kube_sandbox.strategies import quantity

INT64_MAX = Decimal(2**63 - 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", "0"), (".5", "0.5"), ("1.", "1"), ("+1", "1"), ("500m", "0.5"), ("2k", "2000"),
        ("1E", "1e18"), ("1E3", "1000"), ("1e-3", "0.001"), ("1.5Gi", "1610612736"),
        ("1Ei", "1152921504606846976"), ("-2Gi", "-2147483648"),  # the grammar allows a sign
        ("0.1n", "1e-9"), ("1e-20", "1e-9"), ("1.0000000001", "1.000000001"),  # rounded up
        ("8Ei", INT64_MAX), ("1e30", INT64_MAX), ("1e999999999999999999", INT64_MAX),  # capped
        ("1e" + "1" * 5000, INT64_MAX),  # longer than int() converts
    ],
)  # fmt: skip
def test_quantities_parse_to_their_exact_value(text: str, expected: str | Decimal) -> None:
    assert parse_quantity(text) == Decimal(expected)


@pytest.mark.parametrize(
    # "\u0661" is an Arabic-Indic one: a digit to str.isdigit(), not to Kubernetes.
    "text",
    ["", " 1", "1 ", "1Gb", "1..5", "e3", "1e", "1K", "1ki", "--1", "\u0661", "1\n"],
)
def test_what_is_not_a_quantity_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_quantity(text)


@pytest.mark.parametrize("value", [None, 1, ["1"], {"1": 1}])
def test_only_strings_are_parsed(value: object) -> None:
    with pytest.raises(ValueError):
        parse_quantity(value)  # type: ignore[arg-type]


def _control_plane_value(text: str) -> Decimal | None:
    try:
        return control_plane_parse(text)
    except InvalidQuantity:
        return None


QUANTITY_TEXT = st.one_of(
    st.text(alphabet="0123456789.+-eEnumkMGTPiK ", max_size=10),
    st.from_regex(
        r"[+-]?([0-9]{1,25}(\.[0-9]{0,25})?|\.[0-9]{1,25})([numkMGTPE]|[KMGTPE]i|[eE][+-]?[0-9]{1,8})?",
        fullmatch=True,
    ),
)


@settings(max_examples=2000, deadline=None)
@given(text=QUANTITY_TEXT)
def test_the_sandbox_accepts_the_sizes_the_control_plane_accepts(text: str) -> None:
    assert quantity(text) == _control_plane_value(text)


@pytest.mark.parametrize("text", ["-0", "-1", "-0.0m", "-1Gi"])
def test_a_size_written_with_a_minus_is_refused(text: str) -> None:
    assert quantity(text) is None
