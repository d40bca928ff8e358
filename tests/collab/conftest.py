"""Personas of the collaboration platform, in one place, and the objects they act on.

- anonymous (tests/conftest.py): nobody signed in
- sara: ASEAN Secretariat administrator
- pablo: focal point of the Philippines
- tika: focal point of Thailand
- mina: member of the working group on minerals information and database (WGMID)
- olaf: observer (dialogue partner)
- nina: signed in with both factors but without any role in the platform
"""

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from collab import services
from collab.models import (
    ActionLine,
    Comment,
    Document,
    Evidence,
    Folder,
    ImplementationStatus,
    Plan,
    Profile,
    ProgressReport,
    ReviewState,
    Role,
    WorkingGroup,
)
from collab.permissions import Actor, actor_for
from collab.uploads import upload_check
from deposits.models import MemberState

PASSWORD = "correct horse battery staple 7"
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def private_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("collab-private")


@pytest.fixture(autouse=True)
def _collab_settings(settings: Any, private_root: Path) -> None:
    """Fast password hashing; private files in a folder of the test session."""
    settings.PASSWORD_HASHERS = FAST_HASHERS
    settings.COLLAB_PRIVATE_ROOT = private_root


def totp_code(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows now (or `steps_ahead` 30-second steps later)."""
    value = totp(device.bin_key, device.step, device.t0, device.digits, device.drift + steps_ahead)
    return f"{value:0{device.digits}d}"


def pdf_upload(name: str = "evidence.pdf", body: bytes = PDF_BYTES) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, body, content_type="application/pdf")


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return buffer.getvalue()


@dataclass
class Persona:
    user: User
    client: Client

    @property
    def actor(self) -> Actor:
        actor = actor_for(self.user)
        assert actor is not None
        return actor


def make_member(
    username: str,
    role: Role | None,
    *,
    state: str | None = None,
    groups: tuple[str, ...] = (),
    password: str = PASSWORD,
) -> User:
    user = User.objects.create_user(username, email=f"{username}@example.org", password=password)
    if role is None:
        return user
    profile = Profile.objects.create(
        user=user,
        role=role,
        member_state=MemberState.objects.get(code=state) if state else None,
    )
    profile.working_groups.set(WorkingGroup.objects.filter(code__in=groups))
    if role == Role.SECRETARIAT:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        user.groups.add(services.secretariat_group())
    return user


def verified(user: User, **client_options: Any) -> Client:
    """A client signed in as `user` past the second factor (like the root verified_client)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Test app", confirmed=True)
    client = Client(**client_options)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def make_persona(username: str, role: Role | None, **kwargs: Any) -> Persona:
    user = make_member(username, role, **kwargs)
    return Persona(user, verified(user))


def build_personas() -> dict[str, Persona]:
    return {
        "sara": make_persona("sara", Role.SECRETARIAT),
        "pablo": make_persona("pablo", Role.FOCAL_POINT, state="PHL"),
        "tika": make_persona("tika", Role.FOCAL_POINT, state="THA"),
        "mina": make_persona("mina", Role.WORKING_GROUP, groups=("WGMID",)),
        "olaf": make_persona("olaf", Role.OBSERVER),
        "nina": make_persona("nina", None),
    }


@pytest.fixture
def sara(db: None) -> Persona:
    return make_persona("sara", Role.SECRETARIAT)


@pytest.fixture
def pablo(db: None) -> Persona:
    return make_persona("pablo", Role.FOCAL_POINT, state="PHL")


@pytest.fixture
def tika(db: None) -> Persona:
    return make_persona("tika", Role.FOCAL_POINT, state="THA")


@pytest.fixture
def mina(db: None) -> Persona:
    return make_persona("mina", Role.WORKING_GROUP, groups=("WGMID",))


@pytest.fixture
def olaf(db: None) -> Persona:
    return make_persona("olaf", Role.OBSERVER)


@pytest.fixture
def nina(db: None) -> Persona:
    return make_persona("nina", None)


@pytest.fixture
def plan(db: None) -> Plan:
    """AMCAP-III Phase 2, as the migration loaded it."""
    return Plan.objects.get(code="amcap-iii-phase-2")


def line(code: str) -> ActionLine:
    return ActionLine.objects.get(
        code=code, strategy__programme_area__plan__code="amcap-iii-phase-2"
    )


def report_make(
    code: str = "MD1.3",
    state: str = "PHL",
    year: int = 2024,
    quarter: int = 1,
    review_state: ReviewState = ReviewState.DRAFT,
    status: ImplementationStatus = ImplementationStatus.ONGOING,
    percent: int = 40,
    shared: bool = False,
) -> ProgressReport:
    return ProgressReport.objects.create(
        action_line=line(code),
        member_state=MemberState.objects.get(code=state),
        year=year,
        quarter=quarter,
        status=status,
        percent_complete=percent,
        narrative=f"Work on {code} in {state}.",
        review_state=review_state,
        shared_with_observers=shared,
    )


@pytest.fixture
def make_report(db: None) -> Callable[..., ProgressReport]:
    return report_make


@dataclass
class World:
    """One of each kind of object the permission matrix acts on."""

    reports: dict[str, ProgressReport]
    evidence: dict[str, Evidence]
    folders: dict[str, Folder]
    documents: dict[str, Document]
    comments: dict[str, Comment]


def build_world(personas: dict[str, Persona]) -> World:
    sara, pablo, mina = personas["sara"], personas["pablo"], personas["mina"]
    make_report = report_make
    accepted = ReviewState.ACCEPTED
    reports = {
        "phl_draft": make_report("MD1.3", "PHL", 2024, 1),
        "phl_submitted_mid": make_report("MD1.3", "PHL", 2024, 2, ReviewState.SUBMITTED),
        "phl_submitted_tim": make_report("TI1.1", "PHL", 2024, 2, ReviewState.SUBMITTED),
        "phl_returned": make_report("TI1.1", "PHL", 2024, 1, ReviewState.RETURNED),
        "phl_accepted": make_report("TI1.1", "PHL", 2023, 4, accepted),
        "phl_shared": make_report("MD1.3", "PHL", 2023, 4, accepted, shared=True),
        "tha_draft": make_report("MD1.3", "THA", 2024, 1),
    }
    evidence = {
        name: services.evidence_add(
            actor=pablo.actor,
            report=reports[name],
            upload=pdf_upload(f"{name}.pdf"),
            checked=upload_check(pdf_upload(f"{name}.pdf")),
        )
        for name in ("phl_draft", "phl_shared")
    }
    mid = WorkingGroup.objects.get(code="WGMID")
    folders = {
        "secret": services.folder_save(actor=sara.actor, folder=None, name="Secretariat only"),
        "members": services.folder_save(
            actor=sara.actor,
            folder=None,
            name="Member states",
            read_roles=[Role.FOCAL_POINT, Role.WORKING_GROUP],
            upload_roles=[Role.FOCAL_POINT],
        ),
        "wgmid": services.folder_save(
            actor=sara.actor,
            folder=None,
            name="WGMID meetings",
            working_group=mid,
            read_groups=[mid],
            upload_groups=[mid],
        ),
        "public": services.folder_save(
            actor=sara.actor,
            folder=None,
            name="Shared with partners",
            read_roles=[Role.FOCAL_POINT, Role.WORKING_GROUP, Role.OBSERVER],
        ),
    }
    documents = {
        name: services.document_create(
            actor=sara.actor,
            folder=folder,
            title=f"Record of {folder.name}",
            description="Minutes and annexes.",
            tags=["meeting"],
            upload=pdf_upload(f"{name}.pdf"),
            checked=upload_check(pdf_upload(f"{name}.pdf")),
        )
        for name, folder in folders.items()
    }
    comments = {
        "by_pablo_on_report": Comment.objects.create(
            author=pablo.user, body="Evidence attached.", report=reports["phl_submitted_mid"]
        ),
        "by_mina_on_line": Comment.objects.create(
            author=mina.user, body="WGMID will discuss.", action_line=line("MD1.3")
        ),
    }
    return World(reports, evidence, folders, documents, comments)


@pytest.fixture
def world(sara: Persona, pablo: Persona, mina: Persona) -> World:
    return build_world({"sara": sara, "pablo": pablo, "mina": mina})
