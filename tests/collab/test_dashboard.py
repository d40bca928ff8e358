"""Dashboards, the quarterly monitoring report and the review tables."""

import csv
import io
from datetime import date

import pytest

from collab.models import ImplementationStatus, Milestone, Plan, ReviewState
from collab.selectors import dashboard, review_rows
from tests.collab.conftest import Persona, line

pytestmark = pytest.mark.django_db

ACCEPTED = ReviewState.ACCEPTED
TODAY = date(2024, 8, 1)  # 2024 Q3


def board_for(persona: Persona, plan: Plan, today: date = TODAY):
    return dashboard(actor=persona.actor, plan=plan, today=today)


def test_an_empty_plan_is_zero_percent(sara: Persona, plan: Plan) -> None:
    board = board_for(sara, plan)
    assert board.overall.percent == 0
    assert (board.overall.reported, board.overall.total) == (0, 30)
    assert board.status_counts["not_started"] == 30
    assert board.as_of == (2024, 3)


def test_only_accepted_reports_count(sara: Persona, plan: Plan, make_report) -> None:
    make_report("MD1.3", "PHL", 2024, 1, ReviewState.SUBMITTED, percent=90)
    make_report("MD1.3", "THA", 2024, 1, ReviewState.DRAFT, percent=90)
    assert board_for(sara, plan).overall.percent == 0
    make_report("MD1.3", "VNM", 2024, 1, ACCEPTED, percent=60)
    board = board_for(sara, plan)
    assert board.overall.percent == pytest.approx(60 / 30)
    md13 = next(row for row in board.action_lines if row.action_line.code == "MD1.3")
    assert (md13.percent, md13.states_reported, md13.by_state) == (60, 1, {"VNM": 60})


def test_an_action_line_is_the_mean_of_each_states_latest_report(
    sara: Persona, plan: Plan, make_report
) -> None:
    make_report("MD1.3", "PHL", 2023, 4, ACCEPTED, percent=20)
    make_report("MD1.3", "PHL", 2024, 2, ACCEPTED, percent=80)
    make_report("MD1.3", "THA", 2024, 1, ACCEPTED, percent=40)
    make_report("MD1.3", "IDN", 2024, 4, ACCEPTED, percent=100,
                status=ImplementationStatus.COMPLETED)  # fmt: skip
    board = board_for(sara, plan)  # as of 2024 Q3: IDN's Q4 report is not in yet
    md13 = next(row for row in board.action_lines if row.action_line.code == "MD1.3")
    assert md13.percent == 60
    assert md13.by_state == {"PHL": 80, "THA": 40}


def test_areas_groups_and_states_are_summarised(sara: Persona, plan: Plan, make_report) -> None:
    make_report("MD1.1", "PHL", 2024, 1, ACCEPTED, percent=100,
                status=ImplementationStatus.COMPLETED)  # fmt: skip
    make_report("TI1.1", "PHL", 2024, 1, ACCEPTED, percent=50)
    board = board_for(sara, plan)
    by_area = {item.key: item for item in board.by_area}
    assert by_area["MID"].percent == pytest.approx(100 / 6)
    assert by_area["TIM"].percent == pytest.approx(50 / 8)
    assert by_area["SMD"].percent == 0
    by_group = {item.key: item.percent for item in board.by_group}
    assert by_group["WGMID"] == pytest.approx(100 / 6)
    by_state = {item.key: item for item in board.by_state}
    assert by_state["PHL"].percent == pytest.approx(150 / 30)
    assert (by_state["PHL"].reported, by_state["THA"].reported) == (2, 0)
    assert board.status_counts["completed"] == 1 and board.status_counts["ongoing"] == 1


def test_withdrawn_action_lines_are_left_out(sara: Persona, plan: Plan, make_report) -> None:
    make_report("IH2.2", "PHL", 2024, 1, ACCEPTED, percent=0,
                status=ImplementationStatus.WITHDRAWN)  # fmt: skip
    make_report("IH2.1", "PHL", 2024, 1, ACCEPTED, percent=58)
    board = board_for(sara, plan)
    assert board.overall.total == 29
    assert board.overall.percent == pytest.approx(2)


def test_the_timeline_follows_the_quarters_and_the_targets(
    sara: Persona, plan: Plan, make_report
) -> None:
    make_report("MD1.3", "PHL", 2022, 2, ACCEPTED, percent=30)
    make_report("MD1.3", "PHL", 2023, 3, ACCEPTED, percent=90)
    Milestone.objects.create(
        plan=plan, action_line=line("MD1.3"), year=2023, title="Pilot", target_percent=60
    )
    board = board_for(sara, plan)
    points = {p.period: p for p in board.timeline}
    assert len(board.timeline) == 20
    assert points[(2022, 1)].actual == 0
    assert points[(2022, 2)].actual == pytest.approx(1)
    assert points[(2023, 3)].actual == pytest.approx(3)
    assert points[(2024, 4)].actual is None  # in the future on TODAY
    assert points[(2023, 3)].planned == 0
    assert points[(2023, 4)].planned == pytest.approx(2)
    assert board.has_targets
    assert [m.due_label for m in board.plan_milestones][:1] == ["2023 Q1"]


def test_observers_see_figures_from_shared_reports_only(
    olaf: Persona, sara: Persona, plan: Plan, make_report
) -> None:
    make_report("MD1.3", "PHL", 2024, 1, ACCEPTED, percent=60, shared=True)
    make_report("MD1.3", "THA", 2024, 1, ACCEPTED, percent=30)
    md13 = next(r for r in board_for(olaf, plan).action_lines if r.action_line.code == "MD1.3")
    assert md13.by_state == {"PHL": 60}
    md13 = next(r for r in board_for(sara, plan).action_lines if r.action_line.code == "MD1.3")
    assert md13.by_state == {"PHL": 60, "THA": 30}


def test_the_dashboard_page_draws_svg_charts(sara: Persona, plan: Plan, make_report) -> None:
    make_report("MD1.3", "PHL", 2023, 1, ACCEPTED, percent=90)
    response = sara.client.get("/collab/dashboard/")
    assert response.status_code == 200
    content = response.content.decode()
    assert content.count("<svg") >= 6
    assert "Minerals Information and Database" in content
    assert 'id="dashboard-overall">3%' in content
    assert "<script" not in content


def test_chart_labels_are_escaped(sara: Persona, plan: Plan) -> None:
    area = plan.programme_areas.get(code="MID")
    area.name = "<script>alert(1)</script>"
    area.save()
    content = sara.client.get("/collab/dashboard/").content.decode()
    assert "<script>alert(1)</script>" not in content
    assert "&lt;script&gt;" in content


def test_an_unknown_plan_is_404(sara: Persona) -> None:
    assert sara.client.get("/collab/dashboard/amcap-ix/").status_code == 404


# Exports


def read_csv(response) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content if response.streaming else [response.content])
    return list(csv.DictReader(io.StringIO(text.decode("utf-8-sig"))))


def test_the_quarterly_report_as_csv(sara: Persona, plan: Plan, make_report) -> None:
    make_report("MD1.3", "PHL", 2024, 2, ACCEPTED, percent=70)
    make_report("MD1.3", "THA", 2024, 2, ReviewState.SUBMITTED, percent=20)
    make_report("MD1.3", "VNM", 2024, 2, ReviewState.DRAFT, percent=10)
    make_report("MD1.3", "IDN", 2024, 1, ACCEPTED, percent=10)
    response = sara.client.get(
        "/collab/exports/amcap-iii-phase-2/quarterly/?year=2024&quarter=2&format=csv"
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = read_csv(response)
    md13 = [r for r in rows if r["action_line"] == "MD1.3"]
    assert [(r["member_state"], r["percent_complete"], r["review_state"]) for r in md13] == [
        ("PHL", "70", "Accepted"),
        ("THA", "20", "Submitted for review"),
    ]
    assert len(rows) == 29 + 2  # every action line, MD1.3 once per report
    assert {r["working_group"] for r in rows} == {"WGTIM", "WGSMD", "WGCBM", "WGMID"}


def test_the_csv_neutralises_formulas(sara: Persona, plan: Plan, make_report) -> None:
    report = make_report("MD1.3", "PHL", 2024, 2, ACCEPTED)
    report.narrative = '=HYPERLINK("http://evil.example","x")'
    report.save()
    rows = read_csv(
        sara.client.get(
            "/collab/exports/amcap-iii-phase-2/quarterly/?year=2024&quarter=2&format=csv"
        )
    )
    narrative = next(r["narrative"] for r in rows if r["action_line"] == "MD1.3")
    assert narrative.startswith("'=")


def test_the_quarterly_report_prints(sara: Persona, plan: Plan, make_report) -> None:
    make_report("MD1.3", "PHL", 2024, 2, ACCEPTED, percent=70)
    response = sara.client.get("/collab/exports/amcap-iii-phase-2/quarterly/?year=2024&quarter=2")
    assert response.status_code == 200
    assert b"quarterly monitoring report, 2024 Q2" in response.content
    assert b"printable" in response.content


@pytest.mark.parametrize("query", ["year=abc&quarter=1", "year=2024&quarter=5", "quarter=1", ""])
def test_a_bad_quarter_is_400(sara: Persona, plan: Plan, query: str) -> None:
    response = sara.client.get(f"/collab/exports/amcap-iii-phase-2/quarterly/?{query}")
    assert response.status_code == 400


def test_the_review_tables(sara: Persona, plan: Plan, make_report) -> None:
    make_report("MD1.3", "PHL", 2023, 2, ACCEPTED, percent=50)
    make_report("MD1.3", "PHL", 2025, 2, ACCEPTED, percent=100,
                status=ImplementationStatus.COMPLETED)  # fmt: skip
    Milestone.objects.create(
        plan=plan, action_line=line("MD1.3"), year=2023, title="Pilot", target_percent=40
    )
    Milestone.objects.create(
        plan=plan, action_line=line("MD1.3"), year=2025, title="Live", target_percent=100
    )
    mid = {
        r.progress.action_line.code: r for r in review_rows(actor=sara.actor, plan=plan, year=2023)
    }
    assert (mid["MD1.3"].progress.percent, mid["MD1.3"].targets_due, mid["MD1.3"].targets_met) == (
        50,
        1,
        1,
    )
    rows = read_csv(
        sara.client.get("/collab/exports/amcap-iii-phase-2/final-term-review/?format=csv")
    )
    md13 = next(r for r in rows if r["action_line"] == "MD1.3")
    assert (md13["status"], md13["percent_complete"], md13["targets_met"], md13["percent_PHL"]) == (
        "Completed", "100", "2", "100",
    )  # fmt: skip
    page = sara.client.get("/collab/exports/amcap-iii-phase-2/mid-term-review/")
    assert page.status_code == 200
    assert b"mid-term review table (2023)" in page.content


def test_an_unknown_review_is_404(sara: Persona, plan: Plan) -> None:
    assert sara.client.get("/collab/exports/amcap-iii-phase-2/half-term-review/").status_code == 404
