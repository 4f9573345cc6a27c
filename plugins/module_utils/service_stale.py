# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which running systemd units started before one of the files they read last changed.

A role restarts a service when the task writing its config reports ``changed`` (a handler, or a list
built from the registered results). When ``ansible-playbook`` dies between that write and the
restart (killed, the controller lost, Ctrl-C twice), the next run finds the file already right,
reports ``ok``, and the service keeps running what it read before: converged on disk, stale in
memory. Comparing the unit's start time with the files' modification times finds those services
on any later run (and ones whose config someone edited by hand). Pure logic here; the module
onprem.llm.service_stale does the I/O.
"""

from __future__ import absolute_import, division, print_function

# What ``systemctl show`` is asked for (``-p`` each): the main process's start on CLOCK_MONOTONIC,
# which does not jump with the wall clock (NTP, a VM resumed) the way ExecMainStartTimestamp can.
PROPERTIES = ("ActiveState", "ExecMainStartTimestampMonotonic", "ExecMainPID")

# States whose main process is the one that read the files: a unit restarting (activating
# auto-restart) or stopped reads them again when it starts.
_RUNNING = ("active", "reloading")


def started_at(state, now_wall, now_monotonic):
    """The wall-clock time (seconds since the epoch) the unit's running main process started, from
    ``systemctl show`` properties (strings) and the host's clocks read together; None when nothing
    of it runs."""
    if state.get("ActiveState") not in _RUNNING:
        return None
    try:
        monotonic_us = int(state.get("ExecMainStartTimestampMonotonic") or 0)
    except ValueError:
        return None
    if monotonic_us <= 0:
        return None
    return now_wall - (now_monotonic - monotonic_us / 1e6)


def child_started_at(stat_lines, main_pid, clock_ticks, uptime, now_wall):
    """The wall-clock time the newest child of ``main_pid`` started, from the ``/proc/<pid>/stat``
    lines of the host's processes, ``clock_ticks`` (SC_CLK_TCK) and ``uptime`` (the first field of
    /proc/uptime) read together with ``now_wall``; None without children. A reload that starts new
    worker processes (nginx's) leaves no other trace: the master keeps its start time."""
    newest = None
    for line in stat_lines:
        # "pid (comm) state ppid ... starttime(22nd field) ...": comm may hold spaces and parentheses.
        head, sep, rest = line.rpartition(")")
        if not sep:
            continue
        fields = rest.split()
        try:
            ppid, start_ticks = int(fields[1]), int(fields[19])
        except (IndexError, ValueError):
            continue
        if ppid == main_pid and (newest is None or start_ticks > newest):
            newest = start_ticks
    if newest is None:
        return None
    return now_wall - (uptime - newest / float(clock_ticks))


def newer_than(started, mtimes):
    """The paths of ``mtimes`` ({path: mtime or None when missing}) modified after ``started``, sorted."""
    if started is None:
        return []
    return sorted(path for path, mtime in mtimes.items() if mtime is not None and mtime > started)


def verdicts(units, states, mtimes, now_wall, now_monotonic, children_started=None):
    """``units`` ([{unit, paths, process}]), their ``states`` ({unit: show properties}), the files'
    ``mtimes`` and, for units compared by ``process: children``, ``children_started`` ({unit: wall
    time of the newest child or None}) -> ({unit: {running, started, newer}}, [stale unit names in
    the order given])."""
    report, stale = {}, []
    for entry in units:
        name = entry["unit"]
        started = started_at(states.get(name, {}), now_wall, now_monotonic)
        if started is not None and entry.get("process") == "children":
            started = (children_started or {}).get(name)
        newer = newer_than(started, dict((path, mtimes.get(path)) for path in entry.get("paths") or []))
        report[name] = {"running": started is not None,
                        "started": None if started is None else round(started, 3),
                        "newer": newer}
        if newer:
            stale.append(name)
    return report, stale
