"""Service quality checks: planted violations found, clean sessions silent, rules explainable."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from voc.clean import clean_records
from voc.config import DEFAULT_SERVICE_QA, CleanConfig, SourceConfig
from voc.errors import ConfigError
from voc.service_qa import (
    bigram_similarity,
    chat_turns,
    check_service_quality,
    consultations,
    excerpt,
    load_service_qa,
)
from voc.sources import ingest_sources

DATA = Path(__file__).resolve().parent / "data"
PLANTED = DATA / "chats_planted.tsv"
EXPECTED = DATA / "chats_planted_expected.tsv"
TODAY = dt.date(2026, 11, 6)
SEVERITIES = {"high", "medium", "low"}
NO_UNITS = pd.DataFrame({c: pd.Series(dtype=str) for c in ("doc_id", "category", "polarity")})


def load_turns(path: Path) -> pd.DataFrame:
    """Chat turns as the pipeline hands them over: ingested, cleaned, PII-masked, dated."""
    ingested = ingest_sources((SourceConfig(path=str(path)),), TODAY)
    records = clean_records(ingested.records, CleanConfig()).records
    first_time = records.groupby("doc_id")["created_at"].transform("min")
    records["date"] = first_time.dt.date.where(first_time.notna(), TODAY)
    return chat_turns(records)


@pytest.fixture(scope="module")
def rules():
    return load_service_qa(DEFAULT_SERVICE_QA)


@pytest.fixture(scope="module")
def planted_turns() -> pd.DataFrame:
    return load_turns(PLANTED)


@pytest.fixture(scope="module")
def planted_findings(planted_turns, rules) -> pd.DataFrame:
    return check_service_quality(planted_turns, rules, "run-1")


def _keys(findings: pd.DataFrame) -> set[tuple[str, int, str]]:
    return {(r.session_id, int(r.turn_index), r.check_name) for r in findings.itertuples()}


# ------------------------------------------------------------------ planted sessions


def test_every_planted_violation_is_found_and_nothing_else(planted_findings):
    expected = pd.read_csv(EXPECTED, sep="\t", dtype={"turn_index": int})
    assert len(expected) == 15
    wanted = {(r.session_id, r.turn_index, r.check) for r in expected.itertuples()}
    found = _keys(planted_findings)
    assert wanted - found == set(), "planted violations not found"
    assert found - wanted == set(), "findings nobody planted (false positives)"


def test_clean_sessions_give_no_findings(planted_turns, planted_findings):
    clean = {s for s in planted_turns["native_id"] if s.startswith("C")}
    assert len(clean) == 9
    assert not set(planted_findings["session_id"]) & clean


def test_findings_are_explainable(planted_turns, planted_findings):
    turns = planted_turns.set_index(["native_id", "turn_index"])
    for finding in planted_findings.itertuples():
        turn = turns.loc[(finding.session_id, finding.turn_index)]
        # the evidence is the turn's own (masked) text, cut around the match
        assert finding.evidence.strip("…") in turn["text"]
        assert finding.matched
        assert finding.severity in SEVERITIES
        assert finding.speaker == ("agent" if turn["is_agent"] else "customer")
        assert finding.doc_id == turn["doc_id"]
        assert finding.product == turn["product"]
        assert pd.notna(finding.created_at)
        assert finding.run_id == "run-1"
    assert planted_findings["finding_id"].is_unique
    assert planted_findings["agent_id"].isna().all()  # no source names the agent


def test_severity_and_measured_values(planted_findings):
    by_key = planted_findings.set_index(["session_id", "check_name"])
    assert by_key.loc[("P09", "slow_first_response"), "matched"] == "400 s > 300 s"
    assert by_key.loc[("P09", "slow_first_response"), "severity"] == "medium"
    assert by_key.loc[("P10", "slow_reply"), "matched"] == "1140 s > 300 s"
    assert by_key.loc[("P10", "slow_reply"), "severity"] == "high"
    assert by_key.loc[("P08", "unanswered_question"), "matched"] == "asked again at turn 2"
    assert set(by_key.loc["P01"]["matched"].iloc[0].split(",")) == {"全网最", "最好", "绝对"}
    # most severe first, so a supervisor reads the legal and platform risks first
    ranks = planted_findings["severity"].map({"high": 0, "medium": 1, "low": 2})
    assert ranks.is_monotonic_increasing


def test_unanswered_questions_point_at_customer_turns(planted_findings):
    unanswered = planted_findings[planted_findings["check_name"] == "unanswered_question"]
    assert set(unanswered["speaker"]) == {"customer"}
    others = planted_findings[planted_findings["check_name"] != "unanswered_question"]
    assert set(others["speaker"]) == {"agent"}


# ------------------------------------------------------------------- single rules


def _agent_session(*texts: str, customer: str = "请问这个怎么样？") -> pd.DataFrame:
    rows = []
    for text in texts:
        rows.append({"is_agent": False, "text": customer})
        rows.append({"is_agent": True, "text": text})
    frame = pd.DataFrame(rows)
    frame["turn_index"] = range(len(frame))
    frame["created_at"] = pd.NaT
    return frame.assign(
        doc_id="d1", native_id="s1", source="t", product="p", user_id=None, date=TODAY
    )


@pytest.mark.parametrize(
    "reply",
    [
        "亲，第一次购买欢迎哦，我们会第一时间为您发货",
        "非常抱歉亲，最好的办法是联系快递员，您最好先拨打快递电话",
        "亲，成分是100%棉，第一款是白色",
        "已经分配给昆山第一车队，第一笔订单价保已处理",
        "亲，支持微信支付，也可以关注我们的微信公众号",
        "亲，电子发票可以添加至微信卡包保存，您的QQ邮箱是多少呢",
        "亲，加vip会员可以享受九五折哦",
        "可以放滚筒洗衣机洗，不好意思，烘干我们没办法保证不缩水哦",
        "抱歉亲，防水等级我这边不清楚，建议您咨询品牌官方客服",
        "麻烦您提供一下订单号",
    ],
)
def test_benign_replies_are_not_flagged(reply, rules):
    findings = check_service_quality(_agent_session(reply), rules, "r")
    assert findings.empty, findings[["check_name", "matched"]].to_dict("records")


@pytest.mark.parametrize(
    ("reply", "check"),
    [
        ("这是全网第一的耳机", "prohibited_absolute_claim"),
        ("我们是行业第一品牌", "prohibited_absolute_claim"),
        ("保证百分之百正品，史上最低价", "prohibited_absolute_claim"),
        ("加我v：kefu2026，私聊", "off_platform_contact"),
        ("我们线下交易吧，便宜点", "off_platform_contact"),
        ("你有病吧", "rude_language"),
        ("这个我们不清楚的", "dismissive_reply"),
        ("随便你", "dismissive_reply"),
        ("你听不懂吗", "impolite_reply"),
    ],
)
def test_violating_replies_are_flagged(reply, check, rules):
    findings = check_service_quality(_agent_session(reply), rules, "r")
    assert check in set(findings["check_name"])


def test_question_rules(rules):
    questions = rules.questions
    assert questions.is_question("这款有大码吗")
    assert questions.is_question("那XXL呢")
    assert questions.is_question("多少钱")
    assert not questions.is_question("等了好几天，终于到了")
    assert not questions.is_question("好的谢谢")
    assert bigram_similarity("请问什么时候发货?", "什么时候发货?") >= questions.repeat_similarity
    assert bigram_similarity("是纯棉的吗", "快递到哪了") < questions.repeat_similarity


def test_excerpt_cuts_long_text_around_the_match():
    text = "前" * 50 + "绝对" + "后" * 50
    cut = excerpt(text, 50, 52, width=5)
    assert cut == "…" + "前" * 5 + "绝对" + "后" * 5 + "…"


# ------------------------------------------------------------------- consultations


def test_consultations_report_response_times_only_where_times_exist(
    planted_turns, planted_findings, rules
):
    sessions = consultations(planted_turns, NO_UNITS, planted_findings, rules, "run-1")
    sessions = sessions.set_index("session_id")
    assert len(sessions) == 19
    assert sessions.loc["P09", "first_response_s"] == 400
    assert sessions.loc["P10", "max_response_s"] == 1140
    assert sessions.loc["P10", "avg_response_s"] == pytest.approx((20 + 1140) / 2)
    assert np.isnan(sessions.loc["C06", "first_response_s"])  # no times: null, not zero
    assert np.isnan(sessions.loc["C06", "avg_response_s"])
    # two customer turns before the first reply: the wait starts at the first one
    assert sessions.loc["C07", "first_response_s"] == 40
    assert sessions.loc["P05", "qa_findings"] == 3
    assert sessions.loc["P07", "unanswered_questions"] == 1
    assert sessions.loc["C07", "customer_turns"] == 3
    assert sessions.loc["C07", "questions"] == 2


def test_consultations_count_units_per_category(planted_turns, planted_findings, rules):
    doc = planted_turns.loc[planted_turns["native_id"] == "P02", "doc_id"].iloc[0]
    units = pd.DataFrame(
        {
            "doc_id": [doc, doc, doc, "elsewhere"],
            "category": ["product_need", "product_need", "campaign_issue", "logistics"],
            "polarity": ["neutral", "neutral", "negative", "negative"],
        }
    )
    sessions = consultations(planted_turns, units, planted_findings, rules, "r")
    row = sessions.set_index("session_id").loc["P02"]
    assert row["units"] == 3
    assert row["units_product_need"] == 2
    assert row["units_campaign_issue"] == 1
    assert row["units_logistics"] == 0
    assert row["negative_units"] == 1


# ------------------------------------------------------------------------ rules file


def test_default_rules_name_the_documented_checks(rules):
    checks = {rule.check for rule in rules.rules}
    assert {
        "prohibited_absolute_claim",
        "off_platform_contact",
        "rude_language",
        "dismissive_reply",
        "impolite_reply",
    } <= checks


def test_bad_rules_file_reports_every_problem_with_file_and_key(tmp_path):
    path = tmp_path / "qa.yaml"
    path.write_text(
        "version: 1\n"
        "rules:\n"
        "  - check: bad_regex\n"
        "    severity: high\n"
        "    patterns: ['(']\n"
        "  - check: no_severity\n"
        "    phrases: [x]\n"
        "  - check: nothing_to_match\n"
        "    severity: low\n"
        "questions: {words: [吗]}\n"
        "response_times: {first_response_seconds: 0, reply_seconds: 60, high_after_seconds: 600}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as error:
        load_service_qa(path)
    message = str(error.value)
    assert str(path) in message
    assert "rules[0].patterns" in message and "does not compile" in message
    assert "rules[1].severity" in message
    assert "rules[2]" in message and "phrases" in message
    assert "response_times.first_response_seconds" in message


def test_rules_file_must_be_a_mapping(tmp_path):
    path = tmp_path / "qa.yaml"
    path.write_text("- just a list\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_service_qa(path)


# ------------------------------------------------------------------------ JDDC sample


@pytest.fixture(scope="module")
def jddc(shared_data, rules):
    turns = load_turns(shared_data / "jddc_chat_sample.tsv")
    return turns, check_service_quality(turns, rules, "r")


def test_jddc_sample_findings_are_sane(jddc):
    turns, findings = jddc
    keyed = turns.set_index(["doc_id", "turn_index"])
    for finding in findings.itertuples():
        turn = keyed.loc[(finding.doc_id, finding.turn_index)]
        assert finding.evidence.strip("…") in turn["text"]
        if finding.check_name == "unanswered_question":
            assert not turn["is_agent"]
        else:
            assert turn["is_agent"]
    # JDDC has no times: nothing about response times, and no slow-response findings
    assert not findings["check_name"].str.startswith("slow_").any()
    assert findings["created_at"].isna().all()
    # counts measured on the sample with the shipped rules; a change to the rules or
    # the cleaning that moves them should be looked at, not waved through
    assert findings["check_name"].value_counts().to_dict() == {
        "unanswered_question": 27,
        "dismissive_reply": 4,
        "off_platform_contact": 1,
    }
    assert findings["doc_id"].nunique() <= turns["doc_id"].nunique() == 994


def test_jddc_sample_consultations(jddc, rules):
    turns, findings = jddc
    sessions = consultations(turns, NO_UNITS, findings, rules, "r")
    assert len(sessions) == 994
    assert sessions["first_response_s"].isna().all()
    assert sessions["customer_turns"].sum() + sessions["agent_turns"].sum() == len(turns)
    assert sessions["unanswered_questions"].sum() == 27


# ------------------------------------------------------------------------- pipeline

# Cleaning strips HTML tags from text, so the hostile part is made of quotes and
# ampersands; the product is not cleaned and keeps its tags.
HOSTILE = '加我微信 x" onmouseover="alert(1)" & more'
HOSTILE_PRODUCT = "<b>耳机</b>"


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """The planted chats plus one hostile session, run twice through the pipeline."""
    from tests.fakes import HashingEmbedder
    from voc.config import EmbedConfig, PublishConfig, TopicConfig, VocConfig
    from voc.embed import EMBEDDERS
    from voc.pipeline import run_pipeline

    folder = tmp_path_factory.mktemp("qa")
    hostile = folder / "hostile.tsv"
    hostile.write_text(
        "session_id\tuser_id\tis_agent\tproduct\tsent_at\ttext\n"
        f"H1\tU9\t0\t{HOSTILE_PRODUCT}\t2026-10-21 10:00:00\t能便宜点吗？\n"
        f"H1\tU9\t1\t{HOSTILE_PRODUCT}\t2026-10-21 10:00:30\t{HOSTILE}\n",
        encoding="utf-8",
    )
    config = VocConfig(
        sources=(SourceConfig(path=str(PLANTED)), SourceConfig(path=str(hostile))),
        embed=EmbedConfig(model="fake"),
        topics=TopicConfig(enabled=False),
        publish=PublishConfig(out_dir=str(folder / "out")),
    )
    previous = EMBEDDERS.get("fake")
    EMBEDDERS["fake"] = lambda config, argument: HashingEmbedder()
    try:
        first = run_pipeline(config, today=TODAY)
        second = run_pipeline(config, today=TODAY)  # nothing new: no finding twice
    finally:
        if previous is None:
            del EMBEDDERS["fake"]
        else:
            EMBEDDERS["fake"] = previous
    return folder / "out", first, second


def _query(out: Path, sql: str) -> pd.DataFrame:
    import duckdb

    with duckdb.connect(str(out / "voc.duckdb"), read_only=True) as con:
        return con.execute(sql).df()


@pytest.mark.slow
def test_pipeline_publishes_findings_consultations_and_satisfaction(published):
    out, first, second = published
    findings = _query(out, "SELECT * FROM service_qa")
    expected = pd.read_csv(EXPECTED, sep="\t")
    assert len(findings) == len(expected) + 1  # the hostile session's off-platform request
    assert findings["finding_id"].is_unique  # the second run added nothing
    assert set(_keys(findings[findings["source"] == PLANTED.name])) == {
        (r.session_id, r.turn_index, r.check) for r in expected.itertuples()
    }
    sessions = _query(out, "SELECT * FROM consultations")
    assert len(sessions) == 20 and sessions["doc_id"].is_unique
    assert (
        sessions["units"].sum()
        == _query(out, "SELECT count(*) AS n FROM units WHERE source_kind = 'chat'")["n"].iloc[0]
    )
    by_day = _query(out, "SELECT * FROM consultations_daily")
    assert by_day["sessions"].sum() == 20
    satisfaction = _query(out, "SELECT * FROM satisfaction_daily")
    assert set(satisfaction["source_kind"]) == {"chat"}
    assert satisfaction["rated"].sum() == 0 and satisfaction["nps"].isna().all()
    assert set(_query(out, "SELECT DISTINCT source_kind FROM topic_trends")["source_kind"]) == {
        "chat"
    }
    assert {"service_qa", "satisfaction"} <= set(first.timings)
    assert second.documents_new == 0


@pytest.mark.slow
def test_report_shows_service_quality_and_satisfaction_escaped(published):
    out, _, _ = published
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "客服质检 Service quality" in report and "满意度 Satisfaction" in report
    assert "off_platform_contact" in report and "prohibited_absolute_claim" in report
    assert "onmouseover=&quot;alert(1)&quot; &amp;" in report  # evidence is cut after
    assert 'onmouseover="alert(1)"' not in report
    assert "&lt;b&gt;耳机&lt;/b&gt;" in report
    assert HOSTILE_PRODUCT not in report


# ------------------------------------------------------------------------- demo chats


def test_demo_chats_planted_problems_are_found_on_their_lines(demo_dir, rules):
    """voc/demo/README.md lists six planted agent problems by line; nothing else is a phrase hit."""
    turns = load_turns(demo_dir / "chats.tsv")
    findings = check_service_quality(turns, rules, "r")
    phrase_hits = findings[findings["check_name"] != "unanswered_question"]
    phrase_hits = phrase_hits[~phrase_hits["check_name"].str.startswith("slow_")]
    rows = turns.set_index(["doc_id", "turn_index"])["row"]
    found = {
        (int(rows.loc[(f.doc_id, f.turn_index)]), f.check_name) for f in phrase_hits.itertuples()
    }
    assert found == {
        (83, "prohibited_absolute_claim"),
        (172, "prohibited_absolute_claim"),
        (279, "prohibited_absolute_claim"),
        (43, "dismissive_reply"),
        (241, "dismissive_reply"),
        (259, "off_platform_contact"),
    }


# ------------------------------------------------------------------------ run config


def test_run_config_points_at_the_rules_relative_to_itself(tmp_path):
    from voc.config import VocConfig, load_config

    assert VocConfig().service_qa.rules == str(DEFAULT_SERVICE_QA)
    (tmp_path / "qa.yaml").write_text(DEFAULT_SERVICE_QA.read_text(encoding="utf-8"))
    config_file = tmp_path / "voc.yaml"
    config_file.write_text(
        "service_qa: {rules: qa.yaml}\nsatisfaction: {repeat_window_days: 14}\n", encoding="utf-8"
    )
    config = load_config(config_file)
    assert config.service_qa.rules == str(tmp_path / "qa.yaml")
    assert config.satisfaction.repeat_window_days == 14
    assert load_service_qa(config.service_qa.rules).rules


def test_run_config_mistakes_name_the_key(tmp_path):
    from voc.config import load_config

    config_file = tmp_path / "voc.yaml"
    config_file.write_text(
        "service_qa: {rulez: qa.yaml}\nsatisfaction: {repeat_window_days: 0}\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError) as error:
        load_config(config_file)
    assert "service_qa.rulez" in str(error.value)
    assert "satisfaction.repeat_window_days" in str(error.value)
