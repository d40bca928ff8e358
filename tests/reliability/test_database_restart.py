"""PostgreSQL restarted under load: only 503s while it is down, full service again within
10 seconds of it coming back, without restarting the application."""

import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from tests.reliability.cluster import free_port, temporary_cluster

pytestmark = pytest.mark.django_db


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback test server
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return -1  # the web server itself did not answer


def test_a_database_restart_gives_503s_then_full_service(tmp_path: Path) -> None:
    with temporary_cluster() as cluster:
        env = dict(
            os.environ,
            DATABASE_URL=cluster.url,
            MEDIA_ROOT=str(tmp_path / "media"),
            DB_CONNECT_TIMEOUT="2",
            SECURE_COOKIES="0",
            SECURE_SSL_REDIRECT="0",  # the test speaks plain http
        )
        for command in (["migrate", "--noinput", "-v", "0"], ["load_demo"]):
            subprocess.run(
                [sys.executable, "manage.py", *command],
                cwd=settings.BASE_DIR,
                env=env,
                check=True,
                capture_output=True,
                timeout=300,
            )
        port = free_port()
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "granian"),
                "--interface",
                "wsgi",
                "webgis.wsgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "2",
                "--blocking-threads",
                "4",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while _get(base + "/healthz") != 200:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.3)
            # (sent, answered, status): a request sent just before the stop may be answered
            # after it, so "before the outage" means answered before it.
            results: list[tuple[float, float, int]] = []
            stop = threading.Event()

            def load(path: str) -> None:
                while not stop.is_set():
                    sent = time.monotonic()
                    status = _get(base + path)
                    results.append((sent, time.monotonic(), status))
                    time.sleep(0.05)

            threads = [
                threading.Thread(target=load, args=(p,))
                for p in (
                    "/api/occurrences/?limit=5",
                    "/tiles/occurrences/4/12/7.mvt",
                    "/api/occurrences/?limit=5&member_state=PHL",
                )
            ]
            for thread in threads:
                thread.start()
            time.sleep(2)
            down_at = time.monotonic()
            cluster.stop("fast")
            time.sleep(3)
            cluster.start()
            up_at = time.monotonic()
            time.sleep(12)
            stop.set()
            for thread in threads:
                thread.join(15)
        finally:
            server.terminate()
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(15)

        timeline = [(round(sent - down_at, 1), status) for sent, _, status in results]
        statuses = {status for _, _, status in results}
        assert statuses <= {200, 503}, f"unexpected statuses: {statuses - {200, 503}}: {timeline}"
        assert any(status == 503 for sent, _, status in results if down_at <= sent <= up_at), (
            "no 503 while the database was down"
        )
        after = [status for sent, _, status in results if sent >= up_at + 10]
        assert after and all(status == 200 for status in after), (
            f"not fully back 10 s after the restart: {timeline}"
        )
        before = [
            (round(sent - down_at, 2), status) for sent, done, status in results if done < down_at
        ]
        assert before and all(status == 200 for _, status in before), (
            f"failures before the database stopped: {[b for b in before if b[1] != 200]}"
        )
