"""The version rules (which versions a cluster may be created with and upgraded to)
and the settings that offer them, ESS_ES_IMAGE's deprecated meaning included."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.models.versions import DEFAULT_CATALOG, EsVersion, VersionCatalog
from app.settings import Settings

CATALOG = VersionCatalog.of(
    ["9.2.0", "8.17.10", "7.17.29", "8.19.5", "9.1.5", "8.18.8"], default="9.1.5"
)


def test_versions_are_ordered_as_numbers_not_text() -> None:
    assert EsVersion.parse("8.9.0") < EsVersion.parse("8.10.0") < EsVersion.parse("9.0.0")
    assert CATALOG.available == ("7.17.29", "8.17.10", "8.18.8", "8.19.5", "9.1.5", "9.2.0")
    with pytest.raises(ValueError, match="not an Elasticsearch version"):
        EsVersion.parse("9.1")


@pytest.mark.parametrize(
    ("current", "upgrades"),
    [
        ("7.17.29", ("8.17.10", "8.18.8", "8.19.5")),  # the next major only
        ("8.17.10", ("8.18.8", "8.19.5")),  # 9.x from the newest 8.x only
        ("8.19.5", ("9.1.5", "9.2.0")),
        ("9.1.5", ("9.2.0",)),
        ("9.2.0", ()),
        ("9.0.1", ("9.1.5", "9.2.0")),  # a version no longer offered moves on too
    ],
)
def test_upgrades_go_forward_one_major_at_a_time(current: str, upgrades: tuple[str, ...]) -> None:
    assert CATALOG.upgrades_from(current) == upgrades
    for version in CATALOG.available:
        allowed = CATALOG.refusal(version, current=current) is None
        assert allowed == (version in upgrades or version == current), version


def test_refusals_name_what_is_allowed() -> None:
    assert CATALOG.refusal("9.2.0", current="9.2.0") is None  # no change
    assert CATALOG.refusal("9.1.5", current="9.2.0") == (
        "version 9.1.5 is older than the cluster's 9.2.0: Elasticsearch cannot be "
        "downgraded (no upgrade is available from it)"
    )
    assert CATALOG.refusal("9.3.0", current=None) == (
        'version "9.3.0" is not available; available versions: '
        "7.17.29, 8.17.10, 8.18.8, 8.19.5, 9.1.5, 9.2.0"
    )
    with pytest.raises(ValueError, match=r"default version 9\.9\.9 is not among"):
        VersionCatalog.of(["9.1.5"], default="9.9.9")


def test_the_settings_offer_versions_and_images() -> None:
    settings = Settings()
    assert settings.es_catalog == DEFAULT_CATALOG
    assert settings.es_image_of("9.2.0") == "docker.elastic.co/elasticsearch/elasticsearch:9.2.0"
    assert settings.legacy_es_version == "9.1.5" and settings.deprecations == ()
    mirrored = Settings(es_image_repository="registry.example/es", es_versions="9.1.5, 9.2.0")
    assert mirrored.es_image_of("9.2.0") == "registry.example/es:9.2.0"
    assert mirrored.es_catalog.available == ("9.1.5", "9.2.0")
    with pytest.raises(ValidationError, match="is not among"):
        Settings(es_versions="9.2.0")  # the default 9.1.5 is no longer offered
    with pytest.raises(ValidationError, match="without a tag"):
        Settings(es_image_repository="registry.example/es:9.1.5")


def test_the_deprecated_image_setting_still_means_what_it_did(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ESS_ES_IMAGE", "registry.example:5000/es/elasticsearch:8.19.5")
    settings = Settings()
    # Its repository and tag stand for the newer settings: new clusters get that image.
    assert settings.es_image_repository == "registry.example:5000/es/elasticsearch"
    assert settings.es_catalog.default == "8.19.5"
    assert settings.legacy_es_version == "8.19.5"  # what clusters recorded before run
    assert "ESS_ES_IMAGE is deprecated" in settings.deprecations[0]
    monkeypatch.setenv("ESS_ES_DEFAULT_VERSION", "9.2.0")
    assert Settings().es_catalog.default == "9.2.0"  # the newer setting wins
    assert Settings().legacy_es_version == "8.19.5"
    monkeypatch.setenv("ESS_ES_IMAGE", "registry.example/es@sha256:" + "0" * 64)
    with pytest.raises(ValidationError, match="must end in a version tag"):
        Settings()
