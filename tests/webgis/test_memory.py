"""The web process keeps a page's large buffers in the heap (webgis/lib/memory.py): building
pages of 0.7 MB no longer maps fresh memory, and faults on it, for every request."""

import subprocess
import sys
import textwrap

import pytest

from webgis.lib import memory

# Builds 200 pages as the items view does (two 350 KB values, joined into one body) and prints
# the minor page faults taken meanwhile.
_PAGES = textwrap.dedent(
    """
    import os, resource, sys
    from webgis.lib.memory import keep_large_buffers
    tuned = keep_large_buffers() if sys.argv[1] == "tuned" else False
    def page(n):
        blocks = [os.urandom(350_000), bytes(350_000)]
        body = b"".join((b'{"features":[', *blocks, b"]}"))
        return len(body) + n
    for n in range(20):
        page(n)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for n in range(200):
        page(n)
    print(tuned, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    """
)


def _faults(mode: str) -> tuple[str, int]:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": "."}
    out = subprocess.run(
        [sys.executable, "-c", _PAGES, mode], capture_output=True, text=True, env=env, check=True
    ).stdout.split()
    return out[0], int(out[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_pages_stop_faulting_in_fresh_memory() -> None:
    tuned, tuned_faults = _faults("tuned")
    untuned, untuned_faults = _faults("default")
    assert (tuned, untuned) == ("True", "False")
    # By default every 0.7 MB body is a fresh mapping, faulted page by page (61,800 here).
    assert untuned_faults > 20 * 200
    assert tuned_faults < untuned_faults / 10


def test_the_entry_point_applies_the_settings() -> None:
    import webgis.wsgi

    assert webgis.wsgi.MALLOC_TUNED is sys.platform.startswith("linux")


def test_glibc_variables_set_by_the_operator_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "1048576")
    assert memory.keep_large_buffers() is False
