"""`mkdocs serve` while the data is broken: the last good site stays served at once, and a fix shows up."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest
from mkdocs.exceptions import Abort

from hooks import serving
from runbooks import engine
from runbooks.observe.proxy import free_port

from .conftest import ROOT
from .factory import valid_data, write_data

_LIVERELOAD = re.compile(r"<script>\s*var livereload = function.*?</script>", re.DOTALL)
"""The script the server injects into every page, which differs from one request to the next."""


def _page(url: str, timeout: float) -> str:
    """One GET of `url`, failing the test if the server does not answer within `timeout` seconds."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            assert response.status == 200, url
            return _LIVERELOAD.sub("", response.read().decode("utf-8"))
    except TimeoutError:
        pytest.fail(f"{url} was not answered within {timeout} s")


def _eventually(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            result = None
        if result:
            return result
        time.sleep(0.2)
    pytest.fail(f"{what} within {timeout} s")


def test_broken_data_keeps_the_last_good_site_served_until_it_is_fixed(tmp_path):
    data_dir = write_data(tmp_path, valid_data())
    providers = data_dir / "providers.yaml"
    good = providers.read_text(encoding="utf-8")
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "SITE_URL": url, "RUNBOOKS_DATA": str(data_dir)}
    command = engine.command("serve", *engine.config_args(ROOT / "mkdocs.yml"), "--dev-addr", f"127.0.0.1:{port}")
    command += ["--watch", str(data_dir)]
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        pages = ["", "en/", "providers/acme/", "en/faq/"]
        _eventually(lambda: _page(url, timeout=5), 120, "the server did not serve the site")
        before = {page: _page(url + page, timeout=10) for page in pages}

        broken = good.replace("upstream: small-1", "upstreem: small-1", 1)
        assert broken != good
        providers.write_text(broken, encoding="utf-8")
        reported = "the last good version stays served"
        _eventually(lambda: reported in log.read_text(encoding="utf-8"), 60, "the terminal did not say so")
        text = log.read_text(encoding="utf-8")
        assert f"{providers}:{next(n for n, line in enumerate(broken.splitlines(), 1) if 'upstreem' in line)}" in text
        # Reloading a page, and following a link to one not opened before, are answered at once, from the last build.
        for page in pages:
            assert _page(url + page, timeout=5) == before[page], page
        assert "globex" in _page(url + "providers/globex/", timeout=5)

        fixed = good.replace("The team runs tests on acme.", "The team runs nightly tests on acme.")
        assert fixed != good
        providers.write_text(fixed, encoding="utf-8")
        _eventually(
            lambda: "nightly tests" in _page(url + "en/providers/acme/", timeout=5), 90, "the fix did not show up"
        )
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        finally:
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGKILL)
    assert "Traceback" not in log.read_text(encoding="utf-8")


# -------------------------------------------------------------------------------------------------
# The hook's part, with a server and builds of our own
# -------------------------------------------------------------------------------------------------


def _digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file()
    }


class _Server(SimpleNamespace):
    """The parts of MkDocs 1.6's LiveReloadServer the hook uses: it shows version 1 and a rebuild wants 2."""

    def __init__(self, root: Path) -> None:
        super().__init__(root=str(root), builder=None, _epoch_cond=threading.Condition())
        self._visible_epoch, self._wanted_epoch = 1, 2


def _build(served: Path, write: dict[str, str], *, fail: bool):
    """A build as MkDocs runs one: the pre-build event, a clean site directory, the pages, perhaps an abort."""

    def build() -> None:
        config = SimpleNamespace(site_dir=str(served))
        serving.on_pre_build(config=config)
        site = Path(config.site_dir)
        for old in site.rglob("*"):
            if old.is_file():
                old.unlink()
        site.mkdir(parents=True, exist_ok=True)
        for name, content in write.items():
            (site / name).write_text(content, encoding="utf-8")
        if fail:
            raise Abort("Aborted with a BuildError!")

    return build


def test_a_rebuild_that_fails_halfway_leaves_the_served_site_whole_and_holds_no_request(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    (served / "index.html").write_text("the last good version", encoding="utf-8")
    (served / "en.html").write_text("the last good version, in English", encoding="utf-8")
    before = _digest(served)

    server = _Server(served)
    server.builder = _build(served, {"index.html": "half"}, fail=True)
    server = serving.on_serve(server, config=SimpleNamespace(), builder=server.builder)
    server.builder()  # as the server's loop calls it: no exception escapes
    assert _digest(served) == before
    assert server._wanted_epoch == server._visible_epoch == 1, "requests would wait for a version that never comes"
    assert [p.name for p in tmp_path.iterdir()] == ["served"], "the failed build's work directory was left"

    rebuilt = _Server(served)
    rebuilt.builder = _build(served, {"index.html": "the new version"}, fail=False)
    rebuilt = serving.on_serve(rebuilt, config=SimpleNamespace(), builder=rebuilt.builder)
    rebuilt.builder()
    assert _digest(served) == {"index.html": hashlib.sha256(b"the new version").hexdigest()}
    assert rebuilt._wanted_epoch == 2, "the browsers would not be told to reload"
    assert [p.name for p in tmp_path.iterdir()] == ["served"]
