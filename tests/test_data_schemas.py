"""The editors' JSON Schemas of data/*.yaml: committed as generated, valid for the real data, and as strict as
the validator wherever JSON Schema can say it."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError
from ruamel.yaml import YAML

from runbooks import data_schemas, prices
from runbooks.yaml_lines import fast_data

from .conftest import ROOT

KEYS = list(data_schemas.DATA_FILES)


def _schema(key: str) -> dict[str, Any]:
    return json.loads((ROOT / data_schemas.schema_file(key)).read_text(encoding="utf-8"))


def _validator(key: str) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(_schema(key), format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def _real(key: str) -> Any:
    """A data file as the loader reads it: YAML 1.2, an unquoted date as a date."""
    text = (ROOT / data_schemas.DATA_FILES[key][1]).read_text(encoding="utf-8")
    data = fast_data(text)
    return data if data is not None else YAML(typ="safe", pure=True).load(text)


def _schema_errors(key: str, data: Any) -> list[str]:
    found = _validator(key).iter_errors(data_schemas.to_json_types(data))
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in found]


def _validator_accepts(key: str, data: Any) -> bool:
    try:
        data_schemas.DATA_FILES[key][0].model_validate(data)
    except ValidationError:
        return False
    return True


# --- The committed schemas ---------------------------------------------------------------------------


def test_committed_schemas_are_what_the_models_generate():
    stale = data_schemas.stale()
    assert stale == [], "\n".join(map(str, stale))


def test_a_stale_or_missing_schema_is_reported(tmp_path):
    data_schemas.write(tmp_path)
    assert data_schemas.stale(tmp_path) == []
    team = tmp_path / data_schemas.schema_file("team")
    edited = json.loads(team.read_text(encoding="utf-8"))
    del edited["definitions"]["Server"]["properties"]["proxy_url"]["pattern"]
    team.write_text(data_schemas.render(edited), encoding="utf-8")
    (tmp_path / data_schemas.schema_file("prices")).unlink()
    found = {f.file: f for f in data_schemas.stale(tmp_path)}
    assert set(found) == {"schemas/team.schema.json", "schemas/prices.schema.json"}
    assert "differs from the models" in found["schemas/team.schema.json"].message
    assert "is missing" in found["schemas/prices.schema.json"].message
    assert all("make schemas" in f.message for f in found.values())


def test_the_command_writes_the_schemas_and_its_check_fails_on_a_stale_one(tmp_path, capsys):
    assert data_schemas.main([], root=tmp_path) == 0
    assert "wrote schemas/team.schema.json" in capsys.readouterr().out
    assert data_schemas.main(["--check"], root=tmp_path) == 0
    (tmp_path / data_schemas.schema_file("providers")).write_text("{}\n", encoding="utf-8")
    assert data_schemas.main(["--check"], root=tmp_path) == 1
    captured = capsys.readouterr()
    assert "schemas/providers.schema.json:1: stale_schema:" in captured.err
    assert "schemas: fail (1 finding(s)" in captured.out


@pytest.mark.parametrize("key", KEYS)
def test_every_validator_function_is_expressed_or_described(key):
    _, unknown = data_schemas.generate(key)
    assert unknown == [], f"runbooks/data_schemas.py has no rule for {unknown}"


@pytest.mark.parametrize("key", KEYS)
def test_schema_is_draft_07_and_refuses_unknown_keys_in_every_record(key):
    schema = _schema(key)
    assert schema["$schema"] == data_schemas.DRAFT
    jsonschema.Draft7Validator.check_schema(schema)
    records = [schema, *schema["definitions"].values()]
    assert records and all(r["additionalProperties"] is False for r in records if "properties" in r)
    text = json.dumps(schema)
    assert "$defs" not in text
    for node in _nodes(schema):  # draft-07 ignores every keyword beside a $ref
        assert "$ref" not in node or len(node) == 1, node


def _nodes(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        return [node] + [n for value in node.values() for n in _nodes(value)]
    if isinstance(node, list):
        return [n for value in node for n in _nodes(value)]
    return []


@pytest.mark.parametrize("key", KEYS)
def test_each_data_file_names_its_schema_on_its_first_line(key):
    path = ROOT / data_schemas.DATA_FILES[key][1]
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first == data_schemas.modeline(key)
    target = (path.parent / first.split("$schema=", 1)[1]).resolve()
    assert target == (ROOT / data_schemas.schema_file(key)).resolve()
    assert json.loads(target.read_text(encoding="utf-8"))["title"] == data_schemas.DATA_FILES[key][1]


def test_sync_prices_writes_the_schema_line_first():
    snapshot = data_schemas.DATA_FILES["prices"][0].model_validate(_real("prices"))
    assert prices.dump(snapshot).splitlines()[0] == data_schemas.modeline("prices")


# --- The real data, and copies of it broken on purpose -----------------------------------------------


@pytest.mark.parametrize("key", KEYS)
def test_real_data_is_valid_against_its_schema(key):
    assert _schema_errors(key, _real(key)) == []


def test_dates_are_validated_as_the_text_an_editor_sees():
    data = _real("providers")
    assert isinstance(data["providers"]["openai"]["verified_on"], dt.date)
    as_json = data_schemas.to_json_types(data)
    assert isinstance(as_json["providers"]["openai"]["verified_on"], str)
    as_json["providers"]["openai"]["verified_on"] = "24 Nov 2026"
    assert any("is not a 'date'" in e.message for e in _validator("providers").iter_errors(as_json))


def _set(data: Any, path: tuple[Any, ...], value: Any) -> None:
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = value


def _delete(data: Any, path: tuple[Any, ...]) -> None:
    for part in path[:-1]:
        data = data[part]
    del data[path[-1]]


BROKEN = {
    "unknown key": [
        ("providers", lambda d: _set(d, ("providers", "openai", "urls", "consle"), "https://platform.openai.com")),
        ("team", lambda d: _set(d, ("server", "proxy_port"), 4001)),
        ("prices", lambda d: _set(d, ("source", "branch"), "main")),
    ],
    "wrong type": [
        ("providers", lambda d: _set(d, ("providers", "openai", "models"), "gpt-5.1")),
        ("team", lambda d: _set(d, ("cost_control", "proxy", "num_retries"), "3")),
        ("prices", lambda d: _set(d, ("models", "gpt-5.1", "max_input_tokens"), 272000.5)),
    ],
    "missing required field": [
        ("providers", lambda d: _delete(d, ("providers", "openai", "env_var"))),
        ("team", lambda d: _delete(d, ("server", "master_key_env"))),
        ("prices", lambda d: _delete(d, ("models", "gpt-5.1", "litellm_model"))),
    ],
}


@pytest.mark.parametrize(
    ("kind", "key", "mutate"),
    [(kind, key, mutate) for kind, cases in BROKEN.items() for key, mutate in cases],
    ids=[f"{kind}-{key}" for kind, cases in BROKEN.items() for key, _ in cases],
)
def test_a_broken_copy_of_the_real_data_is_rejected_by_schema_and_validator(kind, key, mutate):
    data = copy.deepcopy(_real(key))
    mutate(data)
    assert _schema_errors(key, data), f"the schema accepts a {kind}"
    assert not _validator_accepts(key, data), f"the validator accepts a {kind}"


# --- Every rule added to pydantic's output agrees with the validator ---------------------------------

OPENAI = ("providers", "openai")
SERVER = ("server",)
RULES = [
    # (rule, data file, path, valid value, invalid value)
    ("https link", "providers", (*OPENAI, "urls", "billing"), "https://platform.openai.com/b?x=1", "http://openai.com"),
    ("https link", "providers", (*OPENAI, "urls", "usage"), "https://platform.openai.com/usage", "https://a b.com"),
    ("https link", "providers", (*OPENAI, "urls", "console"), "https://platform.openai.com", "https://"),
    ("https link", "providers", (*OPENAI, "urls", "api_keys"), "https://openai.com/k", 'https://openai.com/"k"'),
    ("loopback url", "team", (*SERVER, "proxy_url"), "http://localhost:4001", "http://10.1.2.3:4001"),
    ("loopback url", "team", (*SERVER, "proxy_url"), "https://[::1]:4000", "http://127.0.0.1:4001/v1"),
    ("server path", "team", (*SERVER, "keys_file"), "/srv/litellm/keys.env", "srv/litellm/keys.env"),
    ("server path", "team", (*SERVER, "reload_script"), "/opt/proxy/", "/root/my script.sh"),
    ("not blank", "providers", (*OPENAI, "name", "zh"), "OpenAI", "   "),
    ("not blank", "team", (*SERVER, "chat_ui"), "https://chat.example.org", " "),
    ("error code", "providers", (*OPENAI, "errors", 0, "code"), 429, ""),
    ("error code", "providers", (*OPENAI, "errors", 0, "code"), "insufficient_quota", 4.5),
    ("error code", "providers", (*OPENAI, "errors", 0, "code"), "x" * 60, "x" * 61),
    ("provider id", "providers", ("providers", "openai"), "open-ai", "OpenAI"),
    ("visibility", "providers", (*OPENAI, "visibility"), "internal", "secret"),
    ("date", "providers", (*OPENAI, "verified_on"), dt.date(2025, 1, 31), "2025/01/31"),
]


def _move_key(data: dict[str, Any], old: str, new: str) -> None:
    data[new] = data.pop(old)


@pytest.mark.parametrize(("rule", "key", "path", "valid", "invalid"), RULES, ids=[r[0] for r in RULES])
def test_a_rule_of_the_schema_agrees_with_the_validator(rule, key, path, valid, invalid):
    for value, expected in ((valid, True), (invalid, False)):
        data = copy.deepcopy(_real(key))
        if rule == "provider id":
            _move_key(data["providers"], "openai", value)
        else:
            _set(data, path, value)
        assert _validator_accepts(key, data) is expected, (rule, value)
        assert (not _schema_errors(key, data)) is expected, (rule, value, _schema_errors(key, data))


def test_a_model_without_a_price_map_entry_can_have_no_prices():
    data = copy.deepcopy(_real("prices"))
    model = data["models"]["gpt-5.1"]
    model["price_map_key"] = None
    for fact in ("mode", "input_usd_per_mtok", "output_usd_per_mtok", "max_input_tokens", "max_output_tokens"):
        model.pop(fact, None)
    assert _validator_accepts("prices", data) and not _schema_errors("prices", data)
    for fact, value in (("mode", "chat"), ("input_usd_per_mtok", 1.25), ("max_output_tokens", 100)):
        priced = copy.deepcopy(data)
        priced["models"]["gpt-5.1"][fact] = value
        assert not _validator_accepts("prices", priced), fact
        assert _schema_errors("prices", priced), fact


@pytest.mark.parametrize(
    ("model", "field", "words"),
    [("Provider", "verified_on", "future"), ("Faq", "answer", "2 sentences"), ("ProviderUrls", "billing", "https://")],
)
def test_rules_beyond_json_schema_are_described_where_an_editor_shows_them(model, field, words):
    described = [
        _schema(key)["definitions"][model]["properties"][field].get("description", "")
        for key in KEYS
        if model in _schema(key)["definitions"]
    ]
    assert described and all(words in text for text in described)


def test_records_carry_their_models_descriptions_for_hover():
    schema = _schema("team")
    assert schema["definitions"]["Server"]["description"] == data_schemas.schema.Server.__doc__
    assert "internal" in schema["definitions"]["Role"]["properties"]["visibility"]["description"]
