from decimal import Decimal

import pytest

from app.kube.quantity import InvalidQuantity, parse_quantity
from app.models import quantity

INT64_MAX = Decimal(2**63 - 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # plain numbers
        ("0", "0"),
        ("000", "0"),
        ("0.000", "0"),
        ("2", "2"),
        ("007", "7"),
        ("0.5", "0.5"),
        (".5", "0.5"),
        ("1.", "1"),
        ("+1", "1"),
        # decimal exponents
        ("1e3", "1000"),
        ("1E3", "1000"),
        ("1e+3", "1000"),
        ("1e-3", "0.001"),
        ("2.5e2", "250"),
        # decimal SI suffixes
        ("100n", "0.0000001"),
        ("250u", "0.00025"),
        ("500m", "0.5"),
        ("1500m", "1.5"),
        ("2k", "2000"),
        ("2M", "2000000"),
        ("2G", "2000000000"),
        ("1T", "1000000000000"),
        ("1P", "1000000000000000"),
        ("1E", "1000000000000000000"),
        # binary SI suffixes
        ("1Ki", "1024"),
        ("256Mi", "268435456"),
        ("2Gi", "2147483648"),
        ("1.5Gi", "1610612736"),
        ("1.1Gi", "1181116006.4"),
        ("10Gi", "10737418240"),
        ("1Ti", "1099511627776"),
        ("1Pi", "1125899906842624"),
        ("1Ei", "1152921504606846976"),
    ],
)
def test_valid_quantities_parse_to_their_exact_value(text: str, expected: str) -> None:
    value = parse_quantity(text)
    assert isinstance(value, Decimal)
    assert value == Decimal(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.1n", Decimal("1e-9")),  # finer than a nano-unit rounds UP, never to zero
        ("1e-20", Decimal("1e-9")),
        ("1.0000000001", Decimal("1.000000001")),
        ("8Ei", INT64_MAX),  # capped at the largest int64, like Kubernetes
        ("1e30", INT64_MAX),
        ("1e999999999999999999", INT64_MAX),
    ],
)
def test_rounding_and_capping_follow_kubernetes(text: str, expected: Decimal) -> None:
    assert parse_quantity(text) == expected


@pytest.mark.parametrize(
    ("text", "shown"), [("1e3", "1000"), ("500m", "0.5"), ("2Gi", "2147483648")]
)
def test_values_come_back_in_plain_canonical_form(text: str, shown: str) -> None:
    assert str(parse_quantity(text)) == shown


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        (" ", "whitespace"),
        (" 1", "whitespace"),
        ("1 ", "whitespace"),
        ("1 Gi", "whitespace"),
        ("1\n", "whitespace"),
        ("-1", "negative"),
        ("-0", "negative"),
        ("-2Gi", "negative"),
        ("2GB", 'unknown suffix "GB"'),
        ("1K", 'unknown suffix "K"'),
        ("1ki", 'unknown suffix "ki"'),
        ("1gi", 'unknown suffix "gi"'),
        ("1e", 'unknown suffix "e"'),
        ("1Ee3", 'unknown suffix "Ee3"'),
        ("1e3.5", 'unknown suffix "e3.5"'),
        ("1_000", 'unknown suffix "_000"'),
        ("0x10", 'unknown suffix "x10"'),
        ("1/2", 'unknown suffix "/2"'),
        ("1.2.3", "decimal point"),
        ("abc", "must start with a number"),
        (".", "must start with a number"),
        ("e3", "must start with a number"),
        ("Gi", "must start with a number"),
        ("inf", "must start with a number"),
        ("NaN", "must start with a number"),
        ("--1", "must start with a number"),
        ("\u0662", "must start with a number"),  # a non-ASCII digit
    ],
)
def test_invalid_strings_are_rejected_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidQuantity) as caught:
        parse_quantity(text)
    message = str(caught.value)
    assert reason in message
    assert "is not a valid Kubernetes quantity" in message
    assert "use forms like 500m, 2, 1Gi, 10Gi, 1Ti" in message


def test_the_message_quotes_the_offending_text_first() -> None:
    with pytest.raises(InvalidQuantity) as caught:
        parse_quantity("2GB")
    assert str(caught.value).startswith('"2GB" is not a valid Kubernetes quantity')


@pytest.mark.parametrize("value", [5, 2.5, None, True, b"1Gi", Decimal("1")])
def test_non_strings_are_rejected(value: object) -> None:
    with pytest.raises(InvalidQuantity, match="must be a string"):
        parse_quantity(value)  # type: ignore[arg-type]


def test_invalid_quantity_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_quantity("2GB")


def test_usual_texts_are_parsed_once_and_the_rest_each_time() -> None:
    for text in ["500m", "2Gi", "1e3", "0.000", "+1k", "2Gi"]:
        assert parse_quantity(text) == quantity._parsed(text)
        assert parse_quantity(text) is parse_quantity(text)  # remembered
    long = "1." + "0" * 40 + "Gi"  # past the length remembered
    assert parse_quantity(long) == Decimal(2**30)
    assert parse_quantity(long) is not parse_quantity(long)
    for _ in range(2):  # a refusal is raised each time, never remembered
        with pytest.raises(InvalidQuantity, match="whitespace"):
            parse_quantity("2 Gi")
