"""The audit log: every change with who, what, when, before and after; for the Secretariat."""

import pytest
from django.test import Client

from collab.models import AuditEntry, Plan
from tests.collab.conftest import Persona, line

pytestmark = pytest.mark.django_db


def test_the_secretariat_reads_the_audit_log(sara: Persona, pablo: Persona, make_report) -> None:
    report = make_report(percent=10)
    pablo.client.post(
        f"/collab/reports/{report.pk}/edit/",
        {"status": "ongoing", "percent_complete": "35", "narrative": "Moving.", "save": ""},
    )
    page = sara.client.get("/collab/audit/")
    assert page.status_code == 200
    content = page.content.decode()
    assert "pablo" in content and "percent_complete" in content
    assert "<del>10</del> → <ins>35</ins>" in content
    filtered = sara.client.get(
        "/collab/audit/", {"model": "collab.progressreport", "actor": "pablo"}
    )
    assert len(filtered.context["page"]) == 1


def test_sign_ins_and_sign_outs_are_logged(pablo: Persona) -> None:
    pablo.client.post("/collab/logout/")
    assert AuditEntry.objects.filter(action="sign_out", actor=pablo.user).exists()


def test_a_new_plan_is_added_in_the_admin_and_audited(sara: Persona) -> None:
    response = sara.client.post(
        "/admin/collab/plan/add/",
        {
            "code": "amcap-iv-phase-1",
            "name": "AMCAP-IV Phase 1",
            "start_year": "2026",
            "end_year": "2030",
            "mid_term_year": "2028",
            "final_term_year": "2030",
            "summary": "",
            "programme_areas-TOTAL_FORMS": "1",
            "programme_areas-INITIAL_FORMS": "0",
            "programme_areas-0-code": "MID",
            "programme_areas-0-name": "Minerals Information and Database",
            "programme_areas-0-position": "0",
            "milestones-TOTAL_FORMS": "1",
            "milestones-INITIAL_FORMS": "0",
            "milestones-0-year": "2028",
            "milestones-0-title": "Mid-term review",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    plan = Plan.objects.get(code="amcap-iv-phase-1")
    assert plan.programme_areas.get().code == "MID"
    assert (
        AuditEntry.objects.get(model="collab.plan", action="create").after["name"]
        == "AMCAP-IV Phase 1"
    )
    assert AuditEntry.objects.filter(model="collab.programmearea", action="create").exists()
    assert AuditEntry.objects.filter(model="collab.milestone", action="create").exists()
    assert sara.client.get("/collab/plan/amcap-iv-phase-1/").status_code == 200


def test_admin_edits_record_before_and_after(sara: Persona) -> None:
    action_line = line("MD1.3")
    response = sara.client.post(
        f"/admin/collab/actionline/{action_line.pk}/change/",
        {
            "strategy": action_line.strategy_id,
            "code": "MD1.3",
            "title": "Run the collaboration platform",
            "working_group": action_line.working_group_id,
            "lead_country": "",
            "position": "2",
            "milestones-TOTAL_FORMS": "0",
            "milestones-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    entry = AuditEntry.objects.get(model="collab.actionline", action="update")
    assert entry.before["title"] == "Build the AMCAP Online Collaboration Platform"
    assert entry.after["title"] == "Run the collaboration platform"
    assert entry.actor == sara.user


def test_the_audit_log_cannot_be_edited_in_the_admin(sara: Persona, make_report) -> None:
    make_report()
    entry = AuditEntry.objects.create(action="create", model="collab.plan", object_id="1")
    assert sara.client.get("/admin/collab/auditentry/add/").status_code == 403
    assert (
        sara.client.post(
            f"/admin/collab/auditentry/{entry.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )


def test_others_cannot_read_the_audit_log(pablo: Persona, anonymous: Client) -> None:
    assert pablo.client.get("/collab/audit/").status_code == 403
    assert anonymous.get("/collab/audit/").status_code == 302


@pytest.mark.parametrize(
    "model",
    [
        "plan", "programmearea", "strategy", "actionline", "milestone", "workinggroup",
        "profile", "invitation", "progressreport", "folder", "document", "comment",
        "notification", "auditentry",
    ],
)  # fmt: skip
def test_the_secretariat_opens_every_collab_admin_page(sara: Persona, world, model: str) -> None:
    assert sara.client.get(f"/admin/collab/{model}/").status_code == 200


def test_the_secretariat_can_reset_a_second_factor_and_unlock_in_the_admin(sara: Persona) -> None:
    for path in (
        "/admin/otp_totp/totpdevice/",
        "/admin/otp_static/staticdevice/",
        "/admin/axes/accessattempt/",
    ):
        assert sara.client.get(path).status_code == 200, path
