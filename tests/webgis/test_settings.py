"""Settings come from the environment through typed helpers with secure defaults."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from webgis.lib.env import env_bool, env_int, env_list, env_secret


def test_env_bool_refuses_unclear_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="FLAG must be one of"):
        env_bool("FLAG")
    monkeypatch.setenv("FLAG", "yes")
    assert env_bool("FLAG") is True


def test_env_int_names_the_bad_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("N", "ten")
    with pytest.raises(ImproperlyConfigured, match="N must be an integer"):
        env_int("N", 1)


def test_env_list_splits_on_commas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOSTS", " a.org, b.org ,")
    assert env_list("HOSTS") == ["a.org", "b.org"]


def test_a_secret_can_come_from_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    monkeypatch.delenv("TOKEN", raising=False)
    monkeypatch.setenv("TOKEN_FILE", str(secret))
    assert env_secret("TOKEN") == "s3cret"


def test_a_missing_secret_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOKEN", raising=False)
    monkeypatch.delenv("TOKEN_FILE", raising=False)
    with pytest.raises(ImproperlyConfigured, match="Set TOKEN"):
        env_secret("TOKEN")


def test_debug_is_off_by_default() -> None:
    assert "DEBUG" not in os.environ or os.environ["DEBUG"] in {"0", ""}
    assert settings.DEBUG is False


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_app_refuses_to_start_without_a_secret_key() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECRET_KEY")}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "Set SECRET_KEY (or SECRET_KEY_FILE)" in result.stderr


def test_production_settings_pass_the_deploy_check() -> None:
    env = dict(os.environ, SECRET_KEY="x" * 60 + "-production-like-secret-with-variety-123")
    env.pop("SECRET_KEY_FILE", None)
    for relaxed in ("SECURE_SSL_REDIRECT", "SECURE_COOKIES", "SECURE_HSTS_SECONDS", "DEBUG"):
        env.pop(relaxed, None)  # the defaults are what production gets
    env.update({"ALLOWED_HOSTS": "amdis.example.org"})
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_https_is_enforced_by_default_but_health_checks_answer_on_http() -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"SECURE_SSL_REDIRECT", "DEBUG"}}
    code = (
        "import django; django.setup(); from django.test import Client; c = Client(HTTP_HOST='localhost');"
        "print(c.get('/map/').status_code, c.get('/healthz').status_code)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.stdout.split()[-2:] == ["301", "200"], result.stderr[-2000:]
