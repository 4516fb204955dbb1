"""params/alerts.yaml: validated once, mistakes named with file, key and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cxpulse.config import ParamsError
from cxpulse.watch import params as wp

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, data: dict) -> Path:
    (tmp_path / wp.FILE).write_text(yaml.safe_dump(data), encoding="utf-8")
    return tmp_path


def rules_file(*rules: dict) -> dict:
    return {"lists": {"duty": {"to": ["duty@northwind.example"]}}, "rules": list(rules)}


def test_repository_alerts_yaml_is_valid_and_has_every_kind():
    alerts = wp.load_alerts(ROOT / "params")
    assert sorted(r.kind for r in alerts.rules) == sorted(wp.RULE_KINDS)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"name": "s", "kind": "negative_surge", "notify": ["duty"], "zz": 3},
         "key 'rules.0.negative_surge.zz': unknown key; expected one of: name, channels"),
        ({"name": "s", "kind": "negative_surge", "notify": ["duty"], "z": "high"},
         "key 'rules.0.negative_surge.z': Input should be a valid number"),
        ({"name": "s", "kind": "surge", "notify": ["duty"]},
         "key 'rules.0': Input tag 'surge' found using 'kind' does not match"),
        ({"name": "s", "kind": "viral_negative", "notify": ["duty"]},
         "key 'rules.0.viral_negative.reach': Field required"),
        ({"name": "s", "kind": "negative_surge", "notify": ["nobody"]},
         "unknown list(s) ['nobody']; expected some of ['duty']"),
        ({"name": "s", "kind": "negative_surge", "notify": ["duty"], "channels": ["fax"]},
         "unknown channel(s) ['fax']"),
    ],
)  # fmt: skip
def test_a_bad_rule_names_the_file_the_key_and_what_was_expected(tmp_path, rule, message):
    with pytest.raises(ParamsError) as err:
        wp.load_alerts(write(tmp_path, rules_file(rule)))
    assert str(tmp_path / wp.FILE) in str(err.value)
    assert message in str(err.value)


def test_two_rules_of_one_name_are_refused(tmp_path):
    rule = {"name": "s", "kind": "negative_surge", "notify": ["duty"]}
    with pytest.raises(ParamsError, match="'s' names two rules"):
        wp.load_alerts(write(tmp_path, rules_file(rule, rule)))


def test_a_webhook_variable_named_but_not_set_is_an_error_without_the_url():
    alert_list = wp.AlertList(to=["a@northwind.example"], webhook_env="HOOK")
    with pytest.raises(ParamsError, match="HOOK .* it is not set"):
        wp.webhook_url(alert_list, {})
    assert wp.webhook_url(alert_list, {"HOOK": "http://127.0.0.1:9/x"}) == "http://127.0.0.1:9/x"
