"""Service quality checks on customer-service chats (客服质检) and the per-session roll-up.

The checks are rules a service manager can read and change in
``taxonomies/service_qa.yaml``; every finding says which rule fired, on which turn,
and quotes the (PII-masked) text that made it fire, so a supervisor can verify it in
seconds. Nothing here is learned: a phrase list is easier to defend to an agent than
a model score.

Checks:

- phrase rules on agent replies (``prohibited_absolute_claim``, ``off_platform_contact``,
  ``rude_language``, ``dismissive_reply``, ``impolite_reply``, or any check the YAML names);
- ``unanswered_question`` on customer turns: a question that gets no agent reply before
  the session ends, or that the customer has to ask again;
- ``slow_first_response`` / ``slow_reply``, only where the export has times.

A chat session is one document, and a session already published is never ingested
again, so the checks run once per session, on the run that first sees it.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, ValidationError, field_validator, model_validator

from voc.config import IDENTIFIER, Frozen, check_regexes, format_validation_error, read_yaml
from voc.errors import ConfigError

log = logging.getLogger(__name__)

Severity = Literal["high", "medium", "low"]
SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2}
# The categories of ../shared/LABELS.md, one count column each in ``consultations``.
CATEGORY_COLUMNS = (
    "product_quality",
    "product_need",
    "selling_point",
    "campaign_issue",
    "logistics",
    "service",
    "other",
)
EVIDENCE_CHARS = 30  # characters kept on each side of the text that fired a rule
_TRAILING = re.compile(r"[\s。.!！~～…,，、]+$")


def _compile_all(values: tuple[str, ...], *, literal: bool) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(re.escape(v) if literal else v, re.IGNORECASE) for v in values)


class PhraseRule(Frozen):
    """Flag an agent reply containing a phrase or matching a pattern (see the YAML header)."""

    check: str = Field(pattern=IDENTIFIER)
    severity: Severity
    description: str = ""
    phrases: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()
    unless_any: tuple[str, ...] = ()

    @field_validator("phrases", "allow", "unless_any")
    @classmethod
    def _no_blank(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        if any(not v.strip() for v in values):
            raise ValueError("blank entries would match every reply")
        return values

    @field_validator("patterns")
    @classmethod
    def _patterns_compile(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        return check_regexes(patterns)

    @model_validator(mode="after")
    def _something_to_match(self) -> PhraseRule:
        if not self.phrases and not self.patterns:
            raise ValueError("a rule needs `phrases` or `patterns`")
        return self

    @cached_property
    def _matchers(self) -> tuple[re.Pattern[str], ...]:
        return _compile_all(self.phrases, literal=True) + _compile_all(self.patterns, literal=False)

    @cached_property
    def _allowed(self) -> tuple[re.Pattern[str], ...]:
        return _compile_all(self.allow, literal=True)

    def find(self, text: str) -> list[re.Match[str]]:
        """The matches in ``text`` that count: not inside an allowed phrase, not softened."""
        lowered = text.lower()
        if any(word.lower() in lowered for word in self.unless_any):
            return []
        benign = [m.span() for a in self._allowed for m in a.finditer(text)]
        found = []
        for matcher in self._matchers:
            for match in matcher.finditer(text):
                inside = any(s <= match.start() and match.end() <= e for s, e in benign)
                if not inside:
                    found.append(match)
        return sorted(found, key=lambda m: (m.start(), -m.end()))


class QuestionRules(Frozen):
    """When a customer turn is a question, and when it counts as unanswered."""

    words: tuple[str, ...] = Field(min_length=1)
    endings: tuple[str, ...] = ()
    not_questions: tuple[str, ...] = ()
    repeat_similarity: float = Field(0.6, gt=0, le=1)
    severity: Severity = "medium"

    def is_question(self, text: str) -> bool:
        """A question word anywhere or a question particle at the end, and no exclusion."""
        if any(phrase in text for phrase in self.not_questions):
            return False
        if any(word in text for word in self.words):
            return True
        return _TRAILING.sub("", text).endswith(self.endings) if self.endings else False


class ResponseTimeRules(Frozen):
    first_response_seconds: float = Field(gt=0)
    reply_seconds: float = Field(gt=0)
    severity: Severity = "medium"
    high_after_seconds: float = Field(gt=0)


class ServiceQARules(Frozen):
    """The whole ``service_qa.yaml``."""

    version: int = Field(ge=1)
    rules: tuple[PhraseRule, ...] = Field(min_length=1)
    questions: QuestionRules
    response_times: ResponseTimeRules


def load_service_qa(path: str | Path) -> ServiceQARules:
    """Load and validate the service-QA rules.

    Raises:
        ConfigError: every problem at once, with file and key, e.g.
            ``taxonomies/service_qa.yaml: rules[2].patterns: Value error, regex '(' ...``.
    """
    path = Path(path)
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(str(path), ["<top>: expected a mapping with `rules`"])
    try:
        return ServiceQARules.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(str(path), format_validation_error(exc)) from exc


# ------------------------------------------------------------------------ findings


def excerpt(text: str, start: int, end: int, width: int = EVIDENCE_CHARS) -> str:
    """The matched text with up to ``width`` characters either side, cut marks as …."""
    left, right = max(0, start - width), min(len(text), end + width)
    return ("…" if left else "") + text[left:right] + ("…" if right < len(text) else "")


def phrase_findings(turn: pd.Series, rules: ServiceQARules) -> list[dict]:
    """One finding per check that fires on an agent reply (the most severe rule wins)."""
    by_check: dict[str, dict] = {}
    for rule in rules.rules:
        matches = rule.find(turn["text"])
        if not matches:
            continue
        finding = by_check.setdefault(
            rule.check,
            {
                "check_name": rule.check,
                "severity": rule.severity,
                "matched": [],
                "evidence": excerpt(turn["text"], matches[0].start(), matches[0].end()),
            },
        )
        if SEVERITY_RANK[rule.severity] < SEVERITY_RANK[finding["severity"]]:
            finding["severity"] = rule.severity
        finding["matched"].extend(m.group(0) for m in matches)
    for finding in by_check.values():
        finding["matched"] = ",".join(dict.fromkeys(finding["matched"]))
    return list(by_check.values())


def bigram_similarity(a: str, b: str) -> float:
    """Jaccard overlap of character bigrams: 1.0 for the same question asked again."""
    grams_a = {a[i : i + 2] for i in range(len(a) - 1)}
    grams_b = {b[i : i + 2] for i in range(len(b) - 1)}
    if not grams_a or not grams_b:
        return float(a == b)
    return len(grams_a & grams_b) / len(grams_a | grams_b)


def unanswered_questions(session: pd.DataFrame, rules: QuestionRules) -> list[tuple[int, str]]:
    """Customer questions left unanswered, as (row position in ``session``, reason).

    A question is unanswered when no agent turn follows it, or when the customer's next
    turn asks the same thing again (whether or not an agent spoke in between: a reply
    that makes the customer repeat the question did not answer it).
    """
    texts = session["text"].tolist()
    agent = session["is_agent"].tolist()
    found = []
    for i, text in enumerate(texts):
        if agent[i] or not rules.is_question(text):
            continue
        later_agent = [j for j in range(i + 1, len(texts)) if agent[j]]
        later_customer = [j for j in range(i + 1, len(texts)) if not agent[j]]
        if not later_agent:
            found.append((i, "no agent reply before the session ended"))
        elif later_customer:
            j = later_customer[0]
            if bigram_similarity(text, texts[j]) >= rules.repeat_similarity:
                found.append((i, f"asked again at turn {int(session['turn_index'].iloc[j])}"))
    return found


def response_seconds(session: pd.DataFrame) -> list[tuple[int, float]]:
    """For each agent reply, (row position, seconds since the customer started waiting).

    The wait starts at the first customer turn after the previous agent turn. Agent
    turns that follow another agent turn are not replies. A reply with a missing (or
    earlier-than-the-question) time gets NaN: no time is not zero time.
    """
    times = pd.to_datetime(session["created_at"]).tolist()
    agent = session["is_agent"].tolist()
    replies = []
    waiting_since: int | None = None
    for i, is_agent in enumerate(agent):
        if not is_agent:
            waiting_since = i if waiting_since is None else waiting_since
            continue
        if waiting_since is None:
            continue
        start, end = times[waiting_since], times[i]
        seconds = (end - start).total_seconds() if pd.notna(start) and pd.notna(end) else np.nan
        replies.append((i, seconds if seconds >= 0 else np.nan))
        waiting_since = None
    return replies


def timing_findings(
    replies: list[tuple[int, float]], rules: ResponseTimeRules
) -> list[tuple[int, str, str, str]]:
    """Slow replies as (row position, check, severity, what was measured)."""
    found = []
    for n, (i, seconds) in enumerate(replies):
        if np.isnan(seconds):
            continue
        check, limit = (
            ("slow_first_response", rules.first_response_seconds)
            if n == 0
            else ("slow_reply", rules.reply_seconds)
        )
        if seconds > limit:
            severity = "high" if seconds >= rules.high_after_seconds else rules.severity
            found.append((i, check, severity, f"{seconds:.0f} s > {limit:.0f} s"))
    return found


def check_session(session: pd.DataFrame, rules: ServiceQARules) -> list[dict]:
    """Every finding of one session (its turns sorted by ``turn_index``)."""
    rows = []

    def add(i: int, **finding) -> None:
        turn = session.iloc[i]
        rows.append({"turn_index": int(turn["turn_index"]), "is_agent": bool(turn["is_agent"]),
                     "created_at": turn["created_at"], **finding})  # fmt: skip

    for i, is_agent in enumerate(session["is_agent"]):
        if is_agent:
            for finding in phrase_findings(session.iloc[i], rules):
                add(i, **finding)
    for i, reason in unanswered_questions(session, rules.questions):
        text = session["text"].iloc[i]
        add(i, check_name="unanswered_question", severity=rules.questions.severity, matched=reason,
            evidence=excerpt(text, 0, 0, width=2 * EVIDENCE_CHARS))  # fmt: skip
    for i, check, severity, measured in timing_findings(
        response_seconds(session), rules.response_times
    ):
        text = session["text"].iloc[i]
        add(i, check_name=check, severity=severity, matched=measured,
            evidence=excerpt(text, 0, 0, width=2 * EVIDENCE_CHARS))  # fmt: skip
    return rows


def chat_turns(records: pd.DataFrame) -> pd.DataFrame:
    """The chat turns of ``records`` (customer and agent), sorted within each session."""
    chats = records[records["source_kind"] == "chat"]
    return chats.sort_values(["doc_id", "turn_index"]).reset_index(drop=True)


def check_service_quality(turns: pd.DataFrame, rules: ServiceQARules, run_id: str) -> pd.DataFrame:
    """Run every check on every session.

    Args:
        turns: Chat turns (as from :func:`chat_turns`): doc_id, native_id, source,
            product, user_id, date, turn_index, is_agent, created_at, text (cleaned and
            PII-masked).
        rules: The loaded ``service_qa.yaml``.
        run_id: Stamped on every finding.

    Returns:
        Findings with the columns of ``schemas.SERVICE_QA``, most severe first.
    """
    rows = []
    for doc_id, session in turns.groupby("doc_id", sort=True):
        first = session.iloc[0]
        context = {
            "doc_id": doc_id,
            "session_id": first["native_id"],
            "source": first["source"],
            "product": first["product"],
            "user_id": first["user_id"],
            "date": first["date"],
        }
        rows.extend({**context, **f} for f in check_session(session.reset_index(drop=True), rules))
    if not rows:
        from voc.schemas import empty

        return empty("service_qa")
    findings = pd.DataFrame(rows)
    findings["speaker"] = np.where(findings.pop("is_agent"), "agent", "customer")
    # No source carries an agent id yet (JDDC and the demo name only the customer).
    findings["agent_id"] = None
    findings["finding_id"] = [
        hashlib.sha1(f"{r.doc_id}|{r.turn_index}|{r.check_name}".encode()).hexdigest()[:16]
        for r in findings.itertuples()
    ]
    findings["run_id"] = run_id
    findings["rank"] = findings["severity"].map(SEVERITY_RANK)
    findings = findings.sort_values(["rank", "date", "doc_id", "turn_index", "check_name"])
    log.info("service QA: %d findings in %d sessions", len(findings), findings["doc_id"].nunique())
    return findings.drop(columns="rank").reset_index(drop=True)


# ------------------------------------------------------------------ consultations


@dataclass(frozen=True)
class SessionTimes:
    first_response_s: float
    avg_response_s: float
    max_response_s: float


def session_times(session: pd.DataFrame) -> SessionTimes:
    """First, mean and slowest reply in seconds; NaN (null) where the export has no times."""
    seconds = np.array([s for _, s in response_seconds(session)], dtype=float)
    known = seconds[~np.isnan(seconds)]
    first = seconds[0] if len(seconds) else np.nan
    if not len(known):
        return SessionTimes(first, np.nan, np.nan)
    return SessionTimes(first, float(known.mean()), float(known.max()))


def consultations(
    turns: pd.DataFrame,
    units: pd.DataFrame,
    findings: pd.DataFrame,
    rules: ServiceQARules,
    run_id: str,
) -> pd.DataFrame:
    """One row per chat session: what the customer asked about, and how it was served.

    Args:
        turns: Chat turns, as for :func:`check_service_quality`.
        units: Labelled units (customer turns cut into clauses, with ``category`` and
            ``polarity``); units of other documents are ignored.
        findings: This run's service-QA findings.
        rules: For what counts as a question.
        run_id: Stamped on every row.

    Returns:
        The columns of ``schemas.CONSULTATIONS``. Categories outside LABELS.md count
        in ``units`` only.
    """
    if turns.empty:
        from voc.schemas import empty

        return empty("consultations")
    chat_units = units[units["doc_id"].isin(turns["doc_id"].unique())]
    by_category = (
        chat_units.groupby(["doc_id", "category"]).size().unstack(fill_value=0)
        .reindex(columns=list(CATEGORY_COLUMNS), fill_value=0)
    )  # fmt: skip
    totals = chat_units.groupby("doc_id").size()
    negative = chat_units[chat_units["polarity"] == "negative"].groupby("doc_id").size()
    per_check = findings.groupby(["doc_id", "check_name"]).size().unstack(fill_value=0)
    rows = []
    for doc_id, session in turns.groupby("doc_id", sort=True):
        session = session.reset_index(drop=True)
        customer = session[~session["is_agent"]]
        times = session_times(session)
        counts = by_category.loc[doc_id] if doc_id in by_category.index else None
        row = {
            "doc_id": doc_id,
            "session_id": session["native_id"].iloc[0],
            "source": session["source"].iloc[0],
            "product": session["product"].iloc[0],
            "user_id": session["user_id"].iloc[0],
            "date": session["date"].iloc[0],
            "started_at": session["created_at"].min(),
            "customer_turns": len(customer),
            "agent_turns": int(session["is_agent"].sum()),
            "questions": int(customer["text"].map(rules.questions.is_question).sum()),
            "units": int(totals.get(doc_id, 0)),
            "negative_units": int(negative.get(doc_id, 0)),
            "first_response_s": times.first_response_s,
            "avg_response_s": times.avg_response_s,
            "max_response_s": times.max_response_s,
            "unanswered_questions": _count(per_check, doc_id, "unanswered_question"),
            "qa_findings": int(per_check.loc[doc_id].sum()) if doc_id in per_check.index else 0,
            "run_id": run_id,
        }
        for category in CATEGORY_COLUMNS:
            row[f"units_{category}"] = int(counts[category]) if counts is not None else 0
        rows.append(row)
    return pd.DataFrame(rows)


def _count(table: pd.DataFrame, row: str, column: str) -> int:
    if row not in table.index or column not in table.columns:
        return 0
    return int(table.at[row, column])


def chat_tables(
    records: pd.DataFrame, units: pd.DataFrame, rules: ServiceQARules, run_id: str
) -> dict[str, pd.DataFrame]:
    """The pipeline step: ``service_qa`` findings and ``consultations`` for new sessions.

    Args:
        records: This run's cleaned records (reviews are skipped).
        units: This run's labelled units.
        rules: The loaded ``service_qa.yaml``.
        run_id: The run.

    Returns:
        ``{"service_qa": ..., "consultations": ...}`` for the sessions of this run; the
        pipeline appends them to the previous runs' rows.
    """
    turns = chat_turns(records)
    findings = check_service_quality(turns, rules, run_id)
    return {
        "service_qa": findings,
        "consultations": consultations(turns, units, findings, rules, run_id),
    }
