"""tests/tools/apt_stall_watchdog.py: real apt-get (this machine's, Debian 12) fetching from a server
that accepts and never answers ends when the watchdog kills its HTTP method, with apt's own words;
a method that reads, or one idle while its apt runs dpkg, is left alone."""

import importlib.util
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
TOOL = ROOT / "tests" / "tools" / "apt_stall_watchdog.py"
SPEC = importlib.util.spec_from_file_location("apt_stall_watchdog", TOOL)
watchdog = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(watchdog)


def _start_watchdog(tmp_path, under):
    log = tmp_path / "watchdog.log"
    proc = subprocess.Popen([sys.executable, str(TOOL), "--log", str(log), "--stalled-after", "2",
                             "--interval", "0.2", "--under", str(under)])
    return proc, log


def _silent_server():
    """A server that takes each request and never answers (what the stalled mirror looked like)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held = []

    def serve():
        while True:
            try:
                conn = server.accept()[0]
            except OSError:
                return
            held.append(conn)

    threading.Thread(target=serve, daemon=True).start()
    return server, held


def test_real_apt_get_update_ends_when_its_stalled_http_method_is_killed(tmp_path):
    server, held = _silent_server()
    port = server.getsockname()[1]
    (tmp_path / "lists" / "partial").mkdir(parents=True)
    (tmp_path / "cache" / "archives" / "partial").mkdir(parents=True)
    (tmp_path / "sources.list").write_text("deb [trusted=yes] http://127.0.0.1:%d/debian bookworm main\n" % port)
    # apt's own timeout far away, so only the watchdog can end the fetch.
    apt = subprocess.Popen(
        ["apt-get", "update", "-o", "Dir::Etc::sourcelist=%s" % (tmp_path / "sources.list"),
         "-o", "Dir::Etc::sourceparts=%s" % tmp_path, "-o", "Dir::State::lists=%s" % (tmp_path / "lists"),
         "-o", "Dir::Cache=%s" % (tmp_path / "cache"), "-o", "Acquire::http::Timeout=600",
         "-o", "Acquire::Retries=0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    guard, log = _start_watchdog(tmp_path, apt.pid)
    try:
        started = time.monotonic()
        output = apt.communicate(timeout=60)[0]
        took = time.monotonic() - started
    finally:
        guard.terminate()
        guard.wait(timeout=10)
        apt.kill()
        server.close()
        for conn in held:
            conn.close()
    assert held, "apt never reached the server"
    assert took < 30
    assert "Method http has died unexpectedly!" in output
    lines = log.read_text().splitlines()
    assert len(lines) == 1
    assert "killed /usr/lib/apt/methods/http" in lines[0] and "read nothing for 2 s" in lines[0]


def _family(with_dpkg):
    """A shell with an 'http method' child that reads nothing (sleep under apt's argv[0]), and with or
    without a 'dpkg' child beside it, as apt-get has while dpkg runs."""
    script = "(exec -a /usr/lib/apt/methods/http sleep 30) & "
    if with_dpkg:
        script += "(exec -a /usr/bin/dpkg sleep 30) & "
    script += "wait"
    return subprocess.Popen(["bash", "-c", script])


def _method_alive(parent):
    return [pid for pid in watchdog.children_of(parent.pid) if watchdog.argv0(pid).endswith("/apt/methods/http")]


def test_a_method_that_reads_nothing_is_killed_and_one_beside_dpkg_is_not(tmp_path):
    alone, beside_dpkg = _family(False), _family(True)
    time.sleep(0.5)
    guards = []
    for name, parent in (("alone", alone), ("dpkg", beside_dpkg)):
        (tmp_path / name).mkdir()
        guards.append(_start_watchdog(tmp_path / name, parent.pid))
    try:
        # waits for the kill instead of a fixed time, so a loaded machine is slow, not red
        deadline = time.monotonic() + 30
        while _method_alive(alone) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _method_alive(alone) == []
        time.sleep(3)  # past the 2 s threshold again: the method beside dpkg has had its chance to be killed
        assert len(_method_alive(beside_dpkg)) == 1
    finally:
        for guard, _log in guards:
            guard.terminate()
            guard.wait(timeout=10)
        for parent in (alone, beside_dpkg):
            subprocess.run(["pkill", "-P", str(parent.pid)], check=False)
            parent.wait(timeout=10)
    assert "read nothing for 2 s" in (tmp_path / "alone" / "watchdog.log").read_text()
    assert (tmp_path / "dpkg" / "watchdog.log").read_text() == ""


def test_stalled_counts_from_the_last_change_and_forgets_ended_methods():
    seen = {}
    assert watchdog.stalled(seen, {10: 100, 11: 5}, 0.0, 90) == []
    assert watchdog.stalled(seen, {10: 100, 11: 6}, 60.0, 90) == []
    # 10 has not moved since 0 s; 11 moved at 60 s.
    assert watchdog.stalled(seen, {10: 100, 11: 6}, 95.0, 90) == [10]
    assert watchdog.stalled(seen, {11: 6}, 151.0, 90) == [11]
    assert 10 not in seen
