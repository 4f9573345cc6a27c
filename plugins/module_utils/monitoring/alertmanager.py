# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Alertmanager's configuration from the monitoring role's receivers.

Pure logic, no Ansible import. Each receiver gets every alert of the severities it names (a route
with ``continue: true`` per receiver under a root route that sends nowhere), grouped by alert and
host. Problems name the variable and what to set; they are reported before anything changes.
"""

from __future__ import annotations

RECEIVER_TYPES = ("webhook", "email")
SEVERITIES = ("critical", "warning")
# The root route's receiver: alerts no receiver asked for end here.
NONE_RECEIVER = "onprem-llm-none"
GROUP_BY = ["alertname", "host"]


def _bool(value, default=True):
    """A setting's truth, also when templating made it a string ("False" is false)."""
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "on", "1")
    return bool(value)


def receiver_problems(receivers, smtp, check_types=True):
    """What stops these receivers from working, each naming the variable to set. The preflight calls it
    with ``check_types=False``: the argument specs' choices report an unknown type there already."""
    problems, seen = [], set()
    for index, receiver in enumerate(receivers):
        where = "monitoring_alert_receivers[%d]" % index
        name = receiver.get("name") or ""
        if not name:
            problems.append("%s has no name: give each receiver a name" % where)
        elif name in seen or name == NONE_RECEIVER:
            problems.append("%s: the name %r is used twice (or reserved): give each receiver its own name"
                            % (where, name))
        seen.add(name)
        kind = receiver.get("type")
        if kind not in RECEIVER_TYPES:
            if check_types:
                problems.append("%s.type is %r: it must be one of %s" % (where, kind, ", ".join(RECEIVER_TYPES)))
        elif kind == "webhook" and not receiver.get("url"):
            problems.append("%s is a webhook without a url: set %s.url to the address that takes the alerts"
                            % (where, where))
        elif kind == "email" and not receiver.get("to"):
            problems.append("%s is an email receiver without addresses: set %s.to" % (where, where))
        unknown = sorted(set(receiver.get("severities") or SEVERITIES) - set(SEVERITIES))
        if unknown:
            problems.append("%s.severities has %s: the rules' severities are %s"
                            % (where, ", ".join(unknown), ", ".join(SEVERITIES)))
    if any(r.get("type") == "email" for r in receivers):
        for key in ("smarthost", "from"):
            if not smtp.get(key):
                problems.append("email receivers need a mail server: set monitoring_smtp_%s" % key)
    return problems


def _receiver(receiver):
    send_resolved = _bool(receiver.get("send_resolved"))
    if receiver["type"] == "webhook":
        return {"name": receiver["name"],
                "webhook_configs": [{"url": receiver["url"], "send_resolved": send_resolved}]}
    to = receiver["to"]
    return {"name": receiver["name"],
            "email_configs": [{"to": ", ".join(to) if isinstance(to, (list, tuple)) else str(to),
                               "send_resolved": send_resolved}]}


def alertmanager_config(receivers, smtp, timing):
    """Receivers (``monitoring_alert_receivers``), SMTP settings ({smarthost, from, username, password,
    require_tls}) and timing ({group_wait, group_interval, repeat_interval}) -> {"config", "problems"}.
    ``config`` is Alertmanager's configuration document (None while there are problems)."""
    receivers = list(receivers or [])
    smtp = dict(smtp or {})
    problems = receiver_problems(receivers, smtp)
    if problems:
        return {"config": None, "problems": problems}
    config = {}
    if any(r["type"] == "email" for r in receivers):
        smtp_global = {"smtp_smarthost": smtp["smarthost"], "smtp_from": smtp["from"],
                       "smtp_require_tls": _bool(smtp.get("require_tls"))}
        if smtp.get("username"):
            smtp_global.update(smtp_auth_username=smtp["username"], smtp_auth_password=smtp.get("password") or "")
        config["global"] = smtp_global
    routes = []
    for receiver in receivers:
        severities = [s for s in SEVERITIES if s in (receiver.get("severities") or SEVERITIES)]
        routes.append({"receiver": receiver["name"], "matchers": ['severity=~"%s"' % "|".join(severities)],
                       "continue": True})
    config["route"] = {"receiver": NONE_RECEIVER, "group_by": list(GROUP_BY),
                       "group_wait": str(timing["group_wait"]), "group_interval": str(timing["group_interval"]),
                       "repeat_interval": str(timing["repeat_interval"]), "routes": routes}
    config["receivers"] = [{"name": NONE_RECEIVER}] + [_receiver(r) for r in receivers]
    return {"config": config, "problems": []}
