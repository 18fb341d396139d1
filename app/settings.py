"""The one settings object of the control plane, read from the environment (prefix ``ESS_``).

It is built once (in the CLI or the test fixtures) and passed down explicitly; nothing
else in the code base reads ``os.environ``.
"""

from __future__ import annotations

import enum
import os
import re
from decimal import Decimal
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.models.billing import Currency, Price
from app.models.names import LABEL, MAX_NAME_LENGTH
from app.models.quota import QuotaLimits
from app.models.versions import (
    DEFAULT_VERSION,
    DEFAULT_VERSIONS,
    LEGACY_VERSION,
    VersionCatalog,
    is_version,
)

# Where the Elasticsearch images come from: a cluster runs `<repository>:<its version>`.
DEFAULT_ES_IMAGE_REPOSITORY = "docker.elastic.co/elasticsearch/elasticsearch"
# A reserved namespace: a DNS-1123 label, or a prefix of one followed by `*` (`team-*`).
_NAMESPACE_PATTERN = re.compile(rf"{LABEL}|[a-z0-9][-a-z0-9]*\*")


class KubeMode(enum.StrEnum):
    AUTO = "auto"
    SANDBOX = "sandbox"
    KUBECONFIG = "kubeconfig"
    INCLUSTER = "incluster"


class LogFormat(enum.StrEnum):
    TEXT = "text"
    JSON = "json"


class AuthMode(enum.StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ESS_", extra="ignore")

    data_dir: Path = Path("./data")
    # Empty means: a SQLite file in the data dir (see ``database_url_resolved``).
    database_url: str = ""
    kube_mode: KubeMode = KubeMode.AUTO
    # The standard variable, deliberately without the ESS_ prefix.
    kubeconfig: str | None = Field(default=None, validation_alias="KUBECONFIG")
    ready_timeout_seconds: float = Field(default=600.0, gt=0)
    sandbox_ready_seconds: float = Field(default=2.0, ge=0)
    # The sandbox cluster runs as a process of its own, started and stopped with the
    # server (``es-serverless sandbox``): the emulator's work (its API server, kubelet,
    # controllers) then runs beside the server's, not on its event loop. True: in the
    # server's own process and loop, where a test can reach it as ``runtime.sandbox``.
    sandbox_in_process: bool = False
    # A cluster runs the image `ESS_ES_IMAGE_REPOSITORY:<its version>`, its version one
    # of ESS_ES_VERSIONS (comma-separated), ESS_ES_DEFAULT_VERSION unless it names one.
    es_image_repository: str = DEFAULT_ES_IMAGE_REPOSITORY
    es_versions: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_VERSIONS)
    )
    es_default_version: str = DEFAULT_VERSION
    # Deprecated: the one image of every cluster, from before clusters had versions.
    # Still honoured: its repository and tag stand for ESS_ES_IMAGE_REPOSITORY and
    # ESS_ES_DEFAULT_VERSION where those are not set (see ``_image_is_deprecated``).
    es_image: str | None = None
    # Upper bound of clusters provisioned at the same time, so a burst of creates
    # neither floods the API server nor grows memory without limit.
    provision_concurrency: int = Field(default=16, ge=1)
    # Kubernetes API calls in flight at once, across all clusters.
    kube_max_in_flight: int = Field(default=32, ge=1)
    # How long one Kubernetes call keeps retrying transient failures.
    kube_retry_seconds: float = Field(default=60.0, gt=0)
    reconcile_interval_seconds: float = Field(default=30.0, gt=0)
    # Several replicas on one database (app.tenancy.leases): a replica holds a lease on
    # each cluster it works on for this long, renewing it every heartbeat (which also
    # looks for work whose lease ran out: a dead replica's work is taken over within
    # about lease + heartbeat seconds).
    lease_seconds: float = Field(default=30.0, gt=0)
    lease_heartbeat_seconds: float = Field(default=10.0, gt=0)
    usage_retention_hours: float = Field(default=24.0 * 7, gt=0)
    log_level: str = "INFO"
    # "text": lines for a person at a terminal; "json": one JSON object per line (time,
    # level, logger, message, request_id, namespace, exception) for a log collector.
    log_format: LogFormat = LogFormat.TEXT

    # -- security ---------------------------------------------------------------------
    # The platform administrator's bearer token; generated into the data dir when unset.
    admin_token: SecretStr | None = None
    # "disabled" lets every request in as the admin: only for local experiments, and
    # refused unless the server binds to loopback only.
    auth: AuthMode = AuthMode.ENABLED
    # Key for the per-cluster secrets derived by HMAC (elastic password, report token);
    # generated into the data dir when unset. Every replica must share it.
    secret_key: SecretStr | None = None
    # The namespace the control plane runs in: the only other namespace whose pods the
    # tenant NetworkPolicies let reach Elasticsearch.
    platform_namespace: str = "es-serverless"
    # Namespaces no tenant cluster may use, on top of `default`, `kube-*` and the
    # platform namespace. From the environment a plain comma-separated list
    # (`ESS_RESERVED_NAMESPACES=monitoring,team-*`); NoDecode keeps pydantic-settings
    # from reading it as JSON.
    reserved_namespaces: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # How tenant clusters reach the control plane (their usage reporter posts here).
    # Unset: the address `serve` listens on (right for the sandbox, where everything is
    # local; a real cluster's pods cannot reach a loopback address, which is warned of).
    public_url: str | None = None
    # Quotas for organisations, users and services the admin set none for, as JSON
    # objects of the spec's quota shape (`{"max_clusters": 10, "max_cpu": "100"}`);
    # unset: no limit.
    default_org_quota: QuotaLimits = Field(default_factory=QuotaLimits)
    default_user_quota: QuotaLimits = Field(default_factory=QuotaLimits)
    default_service_quota: QuotaLimits = Field(default_factory=QuotaLimits)
    rate_limit_per_minute: int = Field(default=600, ge=1)
    # Where the rate-limit counts live, as a `limits` storage URI: "memory://" (this
    # process) or a shared one such as "redis://host:6379" so that several replicas
    # count each caller once (its client package, e.g. limits[redis], installed).
    rate_limit_storage: str = "memory://"
    # A request whose headers are not complete this long after it began is answered
    # 408 and its connection closed (slow or stalled clients hold no socket for ever).
    http_header_timeout_seconds: float = Field(default=10.0, gt=0)
    # An idle kept-alive connection is closed after this long.
    http_keep_alive_seconds: int = Field(default=5, ge=1)
    max_body_bytes: int = Field(default=1 << 20, ge=1024)
    graphql_max_depth: int = Field(default=10, ge=2)
    graphql_max_aliases: int = Field(default=30, ge=1)
    graphql_max_tokens: int = Field(default=5000, ge=50)
    # Fields an operation selects with every fragment expanded (complexity).
    graphql_max_fields: int = Field(default=1000, ge=10)
    # What an operation may cost, estimated before it runs: every field counts once per
    # row of each list above it, a list at the page size asked for or at the rows the
    # caller's data holds (app/api/graphql/cost.py). For an organisation of 1,000
    # clusters with 3 to 5 events each, the README's tree query costs 21,000-29,000 and
    # a heavier tree (15 container fields, deployment with details, events, users)
    # 44,000-52,000: both pass, with room for twice the clusters or busier event logs.
    # 27 aliases of the tree with 33 fields, events and deployment { details } per
    # cluster (972 fields, under every document limit) on 200 clusters cost about
    # 227,000 and took 4-5 s of the server's only event loop: refused.
    graphql_max_cost: int = Field(default=100_000, ge=100)
    # The largest page (`first`) and the most rows a list is counted at: a list whose
    # rows are not counted from the data (API keys) counts as this many.
    graphql_max_list_rows: int = Field(default=5000, ge=1)
    graphql_introspection: bool = True
    # Live subscriptions one caller (an API key, a report token, the admin) may hold
    # across all its WebSockets in this process.
    graphql_max_subscriptions_per_caller: int = Field(default=20, ge=1)
    # The directory `npm ci --prefix` installed graphiql/package.json into: the GraphiQL
    # page loads React and GraphiQL from this server when they are there, from the CDN
    # otherwise (app/api/graphiql).
    graphiql_assets: Path | None = None

    # -- billing ----------------------------------------------------------------------
    # The prices in force until the platform admin records others (POST /billing/prices),
    # per unit-hour, in ESS_CURRENCY: roughly a public cloud's on-demand rates
    # (a core 0.04, a GiB of memory 0.005, a GiB of disk 0.0001 (about 0.07 a month), a
    # GPU 2.50 per hour).
    price_cpu_core_hour: Price = Decimal("0.04")
    price_memory_gib_hour: Price = Decimal("0.005")
    price_disk_gib_hour: Price = Decimal("0.0001")
    price_gpu_hour: Price = Decimal("2.50")
    currency: Currency = "USD"

    @model_validator(mode="after")
    def _heartbeat_within_lease(self) -> Settings:
        if self.lease_heartbeat_seconds >= self.lease_seconds:
            raise ValueError(
                "ESS_LEASE_HEARTBEAT_SECONDS must be shorter than ESS_LEASE_SECONDS "
                "(a lease renewed only after it ran out can be taken over meanwhile)"
            )
        return self

    @field_validator("admin_token", "secret_key", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("admin_token", "secret_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        # Refuse placeholders such as "changeme": a short secret is a guessable one.
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters (or unset, to generate one)")
        return value

    @field_validator("reserved_namespaces", "es_versions", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("reserved_namespaces")
    @classmethod
    def _namespace_patterns(cls, value: list[str]) -> list[str]:
        bad = [p for p in value if len(p) > MAX_NAME_LENGTH or not _NAMESPACE_PATTERN.fullmatch(p)]
        if bad:
            raise ValueError(
                f"not a namespace or a namespace prefix ending in '*': {', '.join(bad)}"
            )
        return value

    @field_validator("es_versions")
    @classmethod
    def _versions_are_versions(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not is_version(v)]
        if bad or not value:
            raise ValueError(
                "must list Elasticsearch versions such as 9.1.5, comma-separated"
                + (f"; not versions: {', '.join(bad)}" if bad else "")
            )
        return value

    @field_validator("es_image_repository")
    @classmethod
    def _repository_is_set(cls, value: str) -> str:
        if not value.strip() or ":" in value.rsplit("/", 1)[-1] or "@" in value:
            raise ValueError(
                "ESS_ES_IMAGE_REPOSITORY must name an image repository without a tag "
                "(e.g. docker.elastic.co/elasticsearch/elasticsearch)"
            )
        return value

    @model_validator(mode="after")
    def _image_is_deprecated(self) -> Settings:
        """ESS_ES_IMAGE (``repository:tag``), set and not overruled by the newer
        settings, gives the repository and the default version: a platform configured
        before clusters had versions creates them with the image it always did."""
        if self.es_image is None or not self.es_image.strip():
            self.es_image = None
        else:
            repository, _, tag = self.es_image.rpartition(":")
            if not repository or "/" in tag or not is_version(tag):
                raise ValueError(
                    f"ESS_ES_IMAGE ({self.es_image}) is deprecated and must end in a version "
                    "tag such as :9.1.5; set ESS_ES_IMAGE_REPOSITORY and "
                    "ESS_ES_DEFAULT_VERSION instead"
                )
            given = self.model_fields_set
            if "es_image_repository" not in given:
                self.es_image_repository = repository
            if "es_default_version" not in given:
                self.es_default_version = tag
        try:
            self.es_catalog  # noqa: B018 - the default must be among the versions
        except ValueError as exc:
            raise ValueError(f"ESS_ES_DEFAULT_VERSION / ESS_ES_VERSIONS: {exc}") from None
        return self

    @property
    def es_catalog(self) -> VersionCatalog:
        """The versions clusters may run, and the default."""
        return VersionCatalog.of(self.es_versions, default=self.es_default_version)

    def es_image_of(self, version: str) -> str:
        """The image a cluster of ``version`` runs."""
        return f"{self.es_image_repository}:{version}"

    @property
    def legacy_es_version(self) -> str:
        """The version the clusters recorded before clusters had versions run: the tag
        of the one image they all ran (ESS_ES_IMAGE, or the default of that time)."""
        return self.es_image.rpartition(":")[2] if self.es_image else LEGACY_VERSION

    @property
    def deprecations(self) -> tuple[str, ...]:
        """Deprecated settings in use, to be said at start."""
        if self.es_image is None:
            return ()
        return (
            f"ESS_ES_IMAGE is deprecated: it stands for ESS_ES_IMAGE_REPOSITORY="
            f"{self.es_image_repository} and ESS_ES_DEFAULT_VERSION={self.es_default_version}"
            "; set those instead (every cluster now runs the version it was created with)",
        )

    @property
    def public_url_resolved(self) -> str:
        return (self.public_url or "http://127.0.0.1:8080").rstrip("/")

    @property
    def database_url_resolved(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'es-serverless.db').resolve()}"

    @property
    def sandbox_kubeconfig_path(self) -> Path:
        return self.data_dir / "sandbox.kubeconfig"

    @property
    def in_cluster(self) -> bool:
        # The variables the kubelet sets in every pod; reading them here keeps
        # environment access inside the settings module.
        return (
            bool(os.environ.get("KUBERNETES_SERVICE_HOST"))
            and Path("/var/run/secrets/kubernetes.io/serviceaccount/token").exists()
        )

    @property
    def default_kubeconfig_path(self) -> Path | None:
        if self.kubeconfig:
            return Path(self.kubeconfig.split(os.pathsep)[0])
        home = Path.home() / ".kube" / "config"
        return home if home.exists() else None
