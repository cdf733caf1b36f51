"""The site a command hands to the build it starts is what the build renders; anything else, and it reads the data."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
from pathlib import Path

from runbooks.handover import ENV, Handover, receive
from runbooks.loader import load
from runbooks.publish import start_build
from runbooks.site import Site

from .conftest import ROOT, SITE_URL
from .factory import valid_data, write_data

# A child process, as the build is: what `receive` gives it, the first provider's English name or "nothing".
_RECEIVER = """
import os, sys
from pathlib import Path
from runbooks.handover import ENV, receive
site = receive(Path(sys.argv[1]), sys.argv[2])
print("nothing" if site is None else next(iter(site.dataset.providers.providers.values())).name("en"))
print(ENV in os.environ)
"""


def _data(root: Path, english_name: str | None = None) -> Path:
    """The tests' valid data under `root`, its first provider called `english_name` in English if given."""
    data = valid_data()
    if english_name:
        next(iter(data["providers"]["providers"].values()))["name"]["en"] = english_name
    return write_data(root, data)


def _receiver(data_dir: Path, audience: str, env: dict[str, str], fds: tuple[int, ...]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _RECEIVER, str(data_dir), audience],
        cwd=ROOT,
        env={**os.environ, **env},
        pass_fds=fds,
        stdout=subprocess.PIPE,
        text=True,
    )


def _received(handover: Handover, data_dir: Path, audience: str, send) -> list[str]:
    """What a child building `data_dir` for `audience` receives once `send(handover)` ran, and whether ENV stayed."""
    child = _receiver(data_dir, audience, handover.env(), (handover.child_fd,))
    handover.started()
    send(handover)
    out, _ = child.communicate(timeout=120)
    handover.close()
    assert child.returncode == 0
    return out.split()


def test_the_build_renders_the_site_it_was_handed_not_the_files(tmp_path):
    on_disk = _data(tmp_path, "Written On Disk")
    handed = Site.for_audience(load(_data(tmp_path / "other", "Handed Over")), "internal")
    pid = next(iter(handed.dataset.providers.providers))
    handover = Handover(on_disk, "internal")
    build = start_build(
        tmp_path / "site", on_disk, config_file=ROOT / "mkdocs.yml", site_url=SITE_URL, handover=handover
    )
    handover.send(handed)
    assert build.wait() is None
    page = (tmp_path / "site" / "en" / "providers" / pid / "index.html").read_text(encoding="utf-8")
    assert "Handed Over" in page and "Written On Disk" not in page


def test_a_child_takes_the_site_derived_from_its_data_for_its_audience(tmp_path):
    data_dir = _data(tmp_path, "Sent Along")
    for audience in ("internal", "public"):
        site = Site.for_audience(load(data_dir), audience)
        assert _received(Handover(data_dir, audience), data_dir, audience, lambda h, s=site: h.send(s)) == [
            "Sent",
            "Along",
            "False",  # read once: a build this one starts, or a rebuild, reads the data itself
        ]


def test_a_site_for_other_data_or_another_audience_is_not_taken(tmp_path):
    data_dir = _data(tmp_path)
    site = Site.for_audience(load(data_dir), "internal")
    other = _data(tmp_path / "elsewhere")
    assert _received(Handover(other, "internal"), data_dir, "internal", lambda h: h.send(site)) == ["nothing", "False"]
    assert _received(Handover(data_dir, "internal"), data_dir, "public", lambda h: h.send(site)) == ["nothing", "False"]


def test_nothing_sent_or_the_pipe_closed_makes_the_child_read_the_data_itself(data_factory):
    data_dir = data_factory()
    assert _received(Handover(data_dir, "internal"), data_dir, "internal", lambda h: h.send(None)) == [
        "nothing",
        "False",
    ]
    assert _received(Handover(data_dir, "internal"), data_dir, "internal", Handover.close) == ["nothing", "False"]


def test_a_payload_cut_short_is_no_site(data_factory):
    data_dir = data_factory()
    payload = pickle.dumps(((str(data_dir.resolve()), "internal"), Site.for_audience(load(data_dir), "internal")))
    read, write = os.pipe()
    child = _receiver(data_dir, "internal", {ENV: str(read)}, (read,))
    os.close(read)
    os.write(write, payload[: len(payload) // 2][:60_000])  # what a pipe takes without a reader
    os.close(write)
    out, _ = child.communicate(timeout=120)
    assert out.split() == ["nothing", "False"]


def test_a_build_that_ends_without_reading_does_not_hold_the_command(data_factory):
    data_dir = data_factory()
    handover = Handover(data_dir, "internal")
    child = subprocess.Popen([sys.executable, "-c", "pass"], pass_fds=(handover.child_fd,))
    handover.started()
    handover.send(Site.for_audience(load(data_dir), "internal"))  # far more than the pipe holds
    child.wait(timeout=120)
    closing = threading.Thread(target=handover.close)
    closing.start()
    closing.join(timeout=120)
    assert not closing.is_alive(), "the sender still waits for a reader that is gone"


def test_a_handover_never_started_releases_its_pipe_and_sends_once(data_factory):
    data_dir = data_factory()
    handover = Handover(data_dir, "internal")
    site = Site.for_audience(load(data_dir), "internal")
    handover.send(site)
    handover.close()  # no build ever read: the sender ends, and both ends are closed
    assert handover.child_fd == -1
    try:
        handover.send(site)
    except RuntimeError as exc:
        assert "once" in str(exc)
    else:
        raise AssertionError("a second send was taken")


def test_without_a_pipe_from_the_command_there_is_nothing_to_receive(monkeypatch, data_factory):
    data_dir = data_factory()
    monkeypatch.delenv(ENV, raising=False)
    assert receive(data_dir, "internal") is None
    for named in ("not-a-descriptor", str(_closed_descriptor())):
        monkeypatch.setenv(ENV, named)
        assert receive(data_dir, "internal") is None
        assert ENV not in os.environ


def _closed_descriptor() -> int:
    read, write = os.pipe()
    os.close(read)
    os.close(write)
    return read
