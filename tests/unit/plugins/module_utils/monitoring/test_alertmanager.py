# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

from ansible_collections.onprem.llm.plugins.module_utils.monitoring import alertmanager as am

TIMING = {"group_wait": "30s", "group_interval": "5m", "repeat_interval": "4h"}
SMTP = {"smarthost": "mail.corp:587", "from": "llm@corp", "username": "", "password": "", "require_tls": True}


def test_each_receiver_gets_its_severities_and_the_root_sends_nowhere():
    out = am.alertmanager_config([
        {"name": "ops", "type": "webhook", "url": "http://10.0.0.9:8080/alerts"},
        {"name": "pager", "type": "email", "to": ["a@corp", "b@corp"], "severities": ["critical"],
         "send_resolved": False}], SMTP, TIMING)
    assert out["problems"] == []
    config = out["config"]
    assert config["global"] == {"smtp_smarthost": "mail.corp:587", "smtp_from": "llm@corp", "smtp_require_tls": True}
    assert config["route"] == {
        "receiver": "onprem-llm-none", "group_by": ["alertname", "host"], "group_wait": "30s",
        "group_interval": "5m", "repeat_interval": "4h", "routes": [
            {"receiver": "ops", "matchers": ['severity=~"critical|warning"'], "continue": True},
            {"receiver": "pager", "matchers": ['severity=~"critical"'], "continue": True}]}
    assert config["receivers"] == [
        {"name": "onprem-llm-none"},
        {"name": "ops", "webhook_configs": [{"url": "http://10.0.0.9:8080/alerts", "send_resolved": True}]},
        {"name": "pager", "email_configs": [{"to": "a@corp, b@corp", "send_resolved": False}]}]


def test_webhooks_only_need_no_mail_server_and_auth_is_added_only_with_a_user():
    out = am.alertmanager_config([{"name": "ops", "type": "webhook", "url": "http://x/"}], {}, TIMING)
    assert out["problems"] == [] and "global" not in out["config"]
    out = am.alertmanager_config([{"name": "m", "type": "email", "to": "a@corp"}],
                                 dict(SMTP, username="llm", password="pw"), TIMING)
    assert out["config"]["global"]["smtp_auth_username"] == "llm"
    assert out["config"]["global"]["smtp_auth_password"] == "pw"


def test_problems_name_the_receiver_and_what_to_set():
    out = am.alertmanager_config([
        {"name": "a", "type": "slack"},
        {"name": "a", "type": "webhook"},
        {"name": "", "type": "email", "severities": ["page"]}], {}, TIMING)
    assert out["config"] is None
    assert out["problems"] == [
        "monitoring_alert_receivers[0].type is 'slack': it must be one of webhook, email",
        "monitoring_alert_receivers[1]: the name 'a' is used twice (or reserved): give each receiver its own name",
        "monitoring_alert_receivers[1] is a webhook without a url: set monitoring_alert_receivers[1].url to the "
        "address that takes the alerts",
        "monitoring_alert_receivers[2] has no name: give each receiver a name",
        "monitoring_alert_receivers[2] is an email receiver without addresses: set monitoring_alert_receivers[2].to",
        "monitoring_alert_receivers[2].severities has page: the rules' severities are critical, warning",
        "email receivers need a mail server: set monitoring_smtp_smarthost",
        "email receivers need a mail server: set monitoring_smtp_from"]


def test_the_reserved_name_is_refused():
    out = am.alertmanager_config([{"name": am.NONE_RECEIVER, "type": "webhook", "url": "http://x/"}], {}, TIMING)
    assert out["problems"] == ["monitoring_alert_receivers[0]: the name 'onprem-llm-none' is used twice (or "
                               "reserved): give each receiver its own name"]


def test_templated_strings_keep_their_truth():
    out = am.alertmanager_config([{"name": "m", "type": "email", "to": "a@corp", "send_resolved": "False"}],
                                 dict(SMTP, require_tls="False"), TIMING)
    assert out["config"]["global"]["smtp_require_tls"] is False
    assert out["config"]["receivers"][1]["email_configs"][0]["send_resolved"] is False


def test_the_preflight_leaves_unknown_types_to_the_argument_specs():
    problems = am.receiver_problems([{"name": "a", "type": "slack"}, {"name": "b", "type": "webhook"}], {},
                                    check_types=False)
    assert problems == ["monitoring_alert_receivers[1] is a webhook without a url: set "
                        "monitoring_alert_receivers[1].url to the address that takes the alerts"]
