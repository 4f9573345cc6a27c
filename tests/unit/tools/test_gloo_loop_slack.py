"""tests/tools/gloo_loop_slack.py: the gloo loop threads of a process named like vLLM's engine get
the timer slack, once; its other threads, and a loop thread in a process of another name, keep
theirs (real processes, their threads named through prctl as vLLM's and gloo's are). Which processes
count as in a container is read from their cgroup, shown here on proc trees written as podman's
cgroup v1 and v2 layouts read."""

import importlib.util
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
TOOL = ROOT / "tests" / "tools" / "gloo_loop_slack.py"
SPEC = importlib.util.spec_from_file_location("gloo_loop_slack", TOOL)
slack = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(slack)

# A process that names itself (PR_SET_NAME names the calling thread; the main thread's name is the
# process name) and starts threads named on argv, each blocked until stdin closes.
NAMED = r"""
import ctypes, sys, threading
libc = ctypes.CDLL(None)
def name(text):
    libc.prctl(15, text.encode(), 0, 0, 0)
name(sys.argv[1])
ready = []
def run(thread_name):
    name(thread_name)
    ready.append(thread_name)
    sys.stdin.read()
for thread_name in sys.argv[2:]:
    threading.Thread(target=run, args=(thread_name,), daemon=True).start()
while len(ready) < len(sys.argv) - 2:
    pass
print("ready", flush=True)
sys.stdin.read()
"""


def _named(process, *threads):
    proc = subprocess.Popen([sys.executable, "-c", NAMED, process, *threads],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def _threads(pid):
    tids = {}
    for task in Path("/proc/%d/task" % pid).iterdir():
        tids[int(task.name)] = ((task / "comm").read_text().strip(),
                                int(Path("/proc/%s/timerslack_ns" % task.name).read_text()))
    return tids


def test_the_loop_threads_of_an_engine_get_the_slack_and_nothing_else_does():
    engine = _named("VLLM::EngineCor", "gloo_tcp_loop", "gloo_tcp_loop", "pt_gloo_runloop")
    other = _named("python3", "gloo_tcp_loop")
    try:
        before = _threads(engine.pid)
        loops = sorted(tid for tid, (name, _ns) in before.items() if name == "gloo_tcp_loop")
        assert len(loops) == 2
        # Not in a container: the default leaves them alone (the tool running beside the unit tests
        # in `make test` never touches these).
        assert not set(loops) & set(slack.loop_threads())
        found = slack.loop_threads(containers_only=False)
        assert set(loops) <= set(found)
        assert not set(found) & set(_threads(other.pid))
        changed = set(slack.set_slack(loops, 123_000_000))
        assert changed == set(loops)
        for tid, (name, ns) in _threads(engine.pid).items():
            assert ns == (123_000_000 if name == "gloo_tcp_loop" else before[tid][1]), (name, ns)
        # A second pass finds them set already.
        assert slack.set_slack(loops, 123_000_000) == []
    finally:
        for proc in (engine, other):
            proc.stdin.close()
            proc.wait(timeout=10)


def _fake_proc(root, pid, name, cgroup, threads):
    """A /proc entry with what the tool reads: comm, cgroup, task/<tid>/comm and <tid>/timerslack_ns."""
    (root / str(pid) / "task").mkdir(parents=True)
    (root / str(pid) / "comm").write_text(name + "\n")
    (root / str(pid) / "cgroup").write_text(cgroup)
    for tid, thread_name in threads.items():
        (root / str(pid) / "task" / str(tid)).mkdir()
        (root / str(pid) / "task" / str(tid) / "comm").write_text(thread_name + "\n")
        (root / str(tid)).mkdir(exist_ok=True)
        (root / str(tid) / "timerslack_ns").write_text("50000\n")


def test_only_engines_in_containers_are_chosen(tmp_path):
    podman_v1 = "4:cpu,cpuacct:/libpod_parent/libpod-0123abcd\n"
    podman_v2 = "0::/machine.slice/libpod-4567ef.scope/container\n"
    _fake_proc(tmp_path, 100, "VLLM::EngineCor", podman_v1, {100: "VLLM::EngineCor", 101: "gloo_tcp_loop"})
    _fake_proc(tmp_path, 200, "VLLM::EngineCor", podman_v2, {200: "VLLM::EngineCor", 201: "gloo_tcp_loop"})
    _fake_proc(tmp_path, 300, "VLLM::EngineCor", "0::/user.slice/session-1.scope\n", {301: "gloo_tcp_loop"})
    _fake_proc(tmp_path, 400, "python3", podman_v1, {401: "gloo_tcp_loop"})
    _fake_proc(tmp_path, 500, "ray::RayWorkerW", podman_v1, {501: "gloo_tcp_loop"})
    (tmp_path / "self").mkdir()
    assert slack.loop_threads(str(tmp_path)) == [101, 201]
    assert slack.loop_threads(str(tmp_path), containers_only=False) == [101, 201, 301]


def test_the_command_line_sets_the_slack_in_one_pass(tmp_path):
    _fake_proc(tmp_path, 100, "VLLM::EngineCor", "1:name=systemd:/libpod_parent/libpod-01\n",
               {100: "VLLM::EngineCor", 101: "gloo_tcp_loop"})
    argv = [sys.executable, str(TOOL), "--once", "--slack-ns", "77000000", "--proc", str(tmp_path)]
    assert subprocess.run(argv, capture_output=True, text=True, check=True).stdout.split() == ["101"]
    assert (tmp_path / "101" / "timerslack_ns").read_text() == "77000000"
    assert (tmp_path / "100" / "timerslack_ns").read_text() == "50000\n"
    assert subprocess.run(argv, capture_output=True, text=True, check=True).stdout.split() == []


def test_a_thread_gone_before_its_slack_is_set_is_skipped(tmp_path):
    assert slack.set_slack([2 ** 22 + 7], 500_000_000) == []
    assert slack.set_slack([5], 500_000_000, str(tmp_path)) == []


def test_the_loop_runs_until_sigterm(tmp_path):
    _fake_proc(tmp_path, 100, "VLLM::EngineCor", "0::/machine.slice/libpod-01.scope\n", {101: "gloo_tcp_loop"})
    proc = subprocess.Popen([sys.executable, str(TOOL), "--interval", "0.1", "--proc", str(tmp_path)])
    try:
        deadline = time.monotonic() + 30
        while (tmp_path / "101" / "timerslack_ns").read_text() != "500000000" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (tmp_path / "101" / "timerslack_ns").read_text() == "500000000"
        assert proc.poll() is None
    finally:
        proc.terminate()
    assert proc.wait(timeout=10) == 0
