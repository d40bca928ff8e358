"""The document library: folders with access lists, versions, search, private downloads."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from collab import services
from collab.models import AuditEntry, Document, DocumentVersion, Folder, Role, WorkingGroup
from collab.uploads import upload_check
from tests.collab.conftest import PDF_BYTES, Persona, pdf_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def members_folder(sara: Persona) -> Folder:
    return services.folder_save(
        actor=sara.actor,
        folder=None,
        name="Work plans",
        read_roles=[Role.FOCAL_POINT, Role.WORKING_GROUP],
        upload_roles=[Role.FOCAL_POINT],
    )


def add_document(persona: Persona, folder: Folder, **fields: str) -> Document:
    upload = pdf_upload(fields.pop("filename", "plan.pdf"))
    return services.document_create(
        actor=persona.actor,
        folder=folder,
        title=fields.get("title", "Work plan 2024"),
        description=fields.get("description", ""),
        tags=fields.get("tags", "").split(",") if fields.get("tags") else [],
        upload=upload,
        checked=upload_check(upload),
    )


def test_a_focal_point_uploads_a_document(pablo: Persona, members_folder: Folder) -> None:
    response = pablo.client.post(
        f"/collab/library/folders/{members_folder.pk}/upload/",
        {
            "title": "Capacity building plan",
            "description": "Rolling programme",
            "tags": "Training, CBM , training",
            "file": pdf_upload("cb-plan.pdf"),
        },
    )
    assert response.status_code == 302
    document = Document.objects.get()
    assert document.tags == ["training", "cbm"]
    version = document.versions.get()
    assert (version.number, version.original_name, version.uploaded_by) == (
        1,
        "cb-plan.pdf",
        pablo.user,
    )
    assert version.file.name.startswith("library/")


def test_new_versions_are_numbered_and_old_ones_stay(
    pablo: Persona, members_folder: Folder
) -> None:
    document = add_document(pablo, members_folder)
    path = f"/collab/library/documents/{document.pk}/versions/"
    new_body = PDF_BYTES + b"% revised\n"
    upload = SimpleUploadedFile("plan-v2.pdf", new_body)
    assert pablo.client.post(path, {"file": upload, "note": "Revised"}).status_code == 302
    versions = list(document.versions.order_by("number"))
    assert [(v.number, v.note) for v in versions] == [(1, ""), (2, "Revised")]
    latest = pablo.client.get(f"/collab/library/documents/{document.pk}/download/")
    assert b"".join(latest.streaming_content) == new_body
    first = pablo.client.get(f"/collab/library/versions/{versions[0].pk}/download/")
    assert b"".join(first.streaming_content) == PDF_BYTES
    assert "private" in first["Cache-Control"]
    assert first["Content-Disposition"].startswith("attachment;")


def test_a_wrong_file_type_is_refused(pablo: Persona, members_folder: Folder) -> None:
    response = pablo.client.post(
        f"/collab/library/folders/{members_folder.pk}/upload/",
        {"title": "Script", "file": SimpleUploadedFile("x.pdf", b"#!/bin/sh\nrm -rf /\n")},
    )
    assert response.status_code == 400
    assert not Document.objects.exists()


def test_search_finds_title_description_and_tags(
    pablo: Persona, sara: Persona, members_folder: Folder
) -> None:
    add_document(pablo, members_folder, title="Minutes of the 24th ASOMM")
    add_document(pablo, members_folder, title="Annex", description="Geoscience data sharing")
    add_document(pablo, members_folder, title="Slides", tags="rare earths,workshop")
    hidden = services.folder_save(actor=sara.actor, folder=None, name="Secretariat notes")
    add_document(sara, hidden, title="ASOMM seating plan")

    def found(query: str) -> list[str]:
        response = pablo.client.get("/collab/library/", {"q": query})
        assert response.status_code == 200
        return sorted(d.title for d in response.context["results"])

    assert found("ASOMM") == ["Minutes of the 24th ASOMM"]  # not the hidden one
    assert found("geoscience") == ["Annex"]
    assert found("workshop") == ["Slides"]
    assert found("rare") == ["Slides"]
    assert found("nothing like it") == []
    sara_results = sara.client.get("/collab/library/", {"q": "ASOMM"}).context["results"]
    assert len(sara_results) == 2


def test_the_library_lists_only_open_folders(
    pablo: Persona, olaf: Persona, sara: Persona, members_folder: Folder
) -> None:
    services.folder_save(actor=sara.actor, folder=None, name="Secretariat notes")
    assert b"Work plans" in pablo.client.get("/collab/library/").content
    assert b"Secretariat notes" not in pablo.client.get("/collab/library/").content
    assert b"Work plans" not in olaf.client.get("/collab/library/").content


def test_the_secretariat_sets_folder_access(sara: Persona, mina: Persona, olaf: Persona) -> None:
    response = sara.client.post(
        "/collab/library/folders/new/",
        {
            "name": "WGMID meeting 2024",
            "working_group": WorkingGroup.objects.get(code="WGMID").pk,
            "read_groups": [WorkingGroup.objects.get(code="WGMID").pk],
            "read_roles": ["observer"],
            "upload_roles": ["observer", "focal_point"],
        },
    )
    # Observers can never be given upload rights: the form does not offer it.
    assert response.status_code == 400
    response = sara.client.post(
        "/collab/library/folders/new/",
        {
            "name": "WGMID meeting 2024",
            "read_groups": [WorkingGroup.objects.get(code="WGMID").pk],
            "upload_groups": [WorkingGroup.objects.get(code="WGMID").pk],
            "read_roles": ["observer"],
        },
    )
    assert response.status_code == 302
    folder = Folder.objects.get(name="WGMID meeting 2024")
    assert mina.client.get(f"/collab/library/folders/{folder.pk}/upload/").status_code == 200
    assert olaf.client.get(f"/collab/library/folders/{folder.pk}/").status_code == 200
    assert olaf.client.get(f"/collab/library/folders/{folder.pk}/upload/").status_code == 403
    entry = AuditEntry.objects.get(model="collab.folder", action="create")
    assert entry.after["read_roles"] == ["observer"]


def test_folder_names_are_unique_within_a_parent(sara: Persona, members_folder: Folder) -> None:
    response = sara.client.post("/collab/library/folders/new/", {"name": "Work plans"})
    assert response.status_code == 400
    response = sara.client.post(
        "/collab/library/folders/new/", {"name": "Work plans", "parent": members_folder.pk}
    )
    assert response.status_code == 302


def test_deleting_a_document_removes_its_files(
    sara: Persona, pablo: Persona, members_folder: Folder, django_capture_on_commit_callbacks
) -> None:
    document = add_document(pablo, members_folder)
    path = Path(document.versions.get().file.path)
    with django_capture_on_commit_callbacks(execute=True):
        response = sara.client.post(f"/collab/library/documents/{document.pk}/delete/")
    assert response.status_code == 302
    assert not Document.objects.exists() and not DocumentVersion.objects.exists()
    assert not path.exists()
    entry = AuditEntry.objects.get(model="collab.document", action="delete")
    assert entry.before["title"] == "Work plan 2024"


def test_a_missing_file_is_404_not_500(pablo: Persona, members_folder: Folder) -> None:
    document = add_document(pablo, members_folder)
    Path(document.versions.get().file.path).unlink()
    assert pablo.client.get(f"/collab/library/documents/{document.pk}/download/").status_code == 404
