"""Bahasa Indonesia: the switcher, translated pages and figures, and a complete, compiled catalogue."""

import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings

pytestmark = pytest.mark.usefixtures("plan_figures")

LOCALE = Path(settings.BASE_DIR) / "locale" / "id" / "LC_MESSAGES"
SEED = Path(settings.BASE_DIR).parent / "shared" / "seed" / "AMCAP-III-Phase2-2021-2025.txt"
FIXTURES = Path(settings.BASE_DIR) / "fixtures" / "landing"


def _html(client: Client, url: str, **headers: str) -> str:
    response = client.get(url, secure=True, headers=headers)
    assert response.status_code == 200
    return response.content.decode()


def test_the_browser_language_chooses_bahasa_indonesia(anonymous: Client) -> None:
    html = _html(anonymous, "/", **{"Accept-Language": "id-ID,id;q=0.9"})
    assert '<html lang="id">' in html
    assert "Sistem Basis Data dan Informasi Mineral ASEAN</h1>" in html
    assert "Nilai ekspor dan impor mineral" in html
    # Figures follow Indonesian conventions: decimal comma, miliar and juta.
    assert "USD 1,7 miliar" in html and "USD 112,6 juta" in html
    assert "hampir 40%" in html


def test_a_profile_in_bahasa_indonesia_names_the_member_state_in_it(anonymous: Client) -> None:
    html = _html(anonymous, "/countries/PHL/", **{"Accept-Language": "id"})
    assert "<h1>Filipina</h1>" in html
    assert "Buka WebGIS dengan filter Filipina" in html
    assert "<title>Filipina · Sistem Basis Data dan Informasi Mineral ASEAN</title>" in html


def test_the_switcher_sets_the_language_and_returns_to_the_page(anonymous: Client) -> None:
    html = _html(anonymous, "/countries/IDN/")
    assert 'name="language" value="id" lang="id">Bahasa Indonesia</button>' in html

    response = anonymous.post(
        "/i18n/setlang/", {"language": "id", "next": "/countries/IDN/"}, secure=True
    )
    assert (response.status_code, response["Location"]) == (302, "/countries/IDN/")
    html = _html(anonymous, "/countries/IDN/")
    assert '<html lang="id">' in html and "Fakta utama" in html
    assert 'value="en" lang="en">English</button>' in html


def test_the_switcher_refuses_a_post_without_a_csrf_token() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/i18n/setlang/", {"language": "id", "next": "/"}, secure=True)
    assert response.status_code == 403


def test_the_switcher_never_redirects_to_another_site(anonymous: Client) -> None:
    response = anonymous.post(
        "/i18n/setlang/", {"language": "id", "next": "https://evil.example/"}, secure=True
    )
    assert response["Location"] == "/"


def test_the_csv_of_a_chart_follows_the_language(anonymous: Client) -> None:
    response = anonymous.get(
        "/countries/PHL/charts/trade-value.csv", secure=True, headers={"Accept-Language": "id"}
    )
    assert "PHL,Filipina,exports,2018,1300000000,USD" in response.content.decode()


@pytest.mark.skipif(not shutil.which("msgfmt"), reason="gettext's msgfmt is not installed")
def test_the_catalogue_is_complete_and_the_committed_mo_is_up_to_date(tmp_path: Path) -> None:
    po, mo = LOCALE / "django.po", LOCALE / "django.mo"
    compiled = tmp_path / "django.mo"
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", str(compiled), str(po)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr, result.stderr
    with mo.open("rb") as committed, compiled.open("rb") as fresh:
        assert (
            gettext.GNUTranslations(committed)._catalog == gettext.GNUTranslations(fresh)._catalog
        )  # type: ignore[attr-defined]


def _msgids(po: Path) -> set[str]:
    text = po.read_text(encoding="utf-8")
    entries = set()
    for block in text.split("\n\n"):
        context = re.search(r'^msgctxt "(.*)"$', block, re.M)
        ids = re.findall(r'^msgid "(.*)"$((?:\n".*")*)', block, re.M)
        if ids:
            first, rest = ids[0]
            msgid = first + "".join(re.findall(r'"(.*)"', rest))
            if msgid:
                entries.add(f"{context.group(1) if context else ''}\x04{msgid}")
    return entries


@pytest.mark.skipif(not shutil.which("xgettext"), reason="gettext's xgettext is not installed")
def test_every_string_marked_in_the_landing_pages_is_in_the_catalogue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """makemessages over a copy of landing/ and the site's templates finds nothing the catalogue
    lacks."""
    base = Path(settings.BASE_DIR)
    shutil.copytree(
        base / "landing", tmp_path / "landing", ignore=shutil.ignore_patterns("__pycache__")
    )
    (tmp_path / "webgis" / "templates").mkdir(parents=True)
    # The site's frame and its error pages (what went wrong: also the collaboration platform's).
    for template in ("base.html", "error.html", "_error_message.html"):
        shutil.copy(base / "webgis" / "templates" / template, tmp_path / "webgis" / "templates")
    (tmp_path / "locale").mkdir()
    monkeypatch.chdir(tmp_path)  # makemessages reads the current folder and writes ./locale
    with override_settings(LOCALE_PATHS=[tmp_path / "locale"]):
        call_command("makemessages", locale=["id"], no_obsolete=True, verbosity=0)
    extracted = _msgids(tmp_path / "locale" / "id" / "LC_MESSAGES" / "django.po")
    assert len(extracted) > 250, "too little was extracted"
    assert extracted - _msgids(LOCALE / "django.po") == set()


def _lowercase_words(text: str) -> list[str]:
    """Words that start with a small letter: proper names (ASEAN, Republic of Korea) drop out."""
    return [w.lower() for w in re.findall(r"[A-Za-z0-9]+", text) if w[0].islower()]


@pytest.mark.skipif(not SEED.exists(), reason="the plan text (shared/seed) is not here")
def test_no_sentence_of_the_plan_is_carried_over() -> None:
    """No run of eight words of the plan appears in the pages' text or the fixtures' notes."""
    seed = _lowercase_words(SEED.read_text(encoding="utf-8"))
    plan_runs = {tuple(seed[i : i + 8]) for i in range(len(seed) - 7)}
    texts = [entry.split("\x04")[1] for entry in _msgids(LOCALE / "django.po")]
    texts += [path.read_text(encoding="utf-8") for path in FIXTURES.glob("*.csv")]
    copied = set()
    for text in texts:
        words = _lowercase_words(text)
        copied |= {tuple(words[i : i + 8]) for i in range(len(words) - 7)} & plan_runs
    assert copied == set()
