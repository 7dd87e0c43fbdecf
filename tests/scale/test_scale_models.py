"""models.env names the variables Inspect's providers read."""

import pytest

from tripwire._errors import ConfigError
from tripwire.scale import model_variables, render_models_env


def by_name(variables):
    return {v.name: v for v in variables}


def test_vllm_reads_one_server_url_and_an_optional_key():
    found = by_name(model_variables(["vllm/org/a"], {"vllm/org/a": "http://v:8000/v1"}))
    assert found["VLLM_BASE_URL"].value == "http://v:8000/v1"
    assert found["VLLM_API_KEY"].required is False


def test_each_openai_compatible_service_has_its_own_variables():
    models = ["openai-api/vllm-a/org/a", "openai-api/vllm-b/org/b"]
    found = by_name(model_variables(models, {"openai-api/vllm-b/org/b": "http://b/v1"}))
    assert set(found) == {"VLLM_A_BASE_URL", "VLLM_A_API_KEY", "VLLM_B_BASE_URL", "VLLM_B_API_KEY"}
    assert found["VLLM_A_BASE_URL"].value == ""
    assert found["VLLM_B_BASE_URL"].value == "http://b/v1"


def test_hosted_and_local_models():
    found = by_name(model_variables(["openai/gpt-4o", "tripwire/scripted-honest", "mockllm/model"]))
    assert list(found) == ["OPENAI_API_KEY"]


def test_two_vllm_models_cannot_have_two_urls():
    urls = {"vllm/a": "http://a/v1", "vllm/b": "http://b/v1"}
    with pytest.raises(ConfigError, match="openai-api/<server>/<model>"):
        model_variables(["vllm/a", "vllm/b"], urls)


@pytest.mark.parametrize(
    ("models", "urls", "message"),
    [
        (["vllm/a"], {"vllm/b": "http://b"}, "not among --models"),
        (["openai/gpt-4o"], {"openai/gpt-4o": "http://x"}, "is for vllm/"),
        (["openai-api/only-service"], {}, "openai-api/<service>/<model>"),
    ],
)
def test_bad_endpoints_are_errors(models, urls, message):
    with pytest.raises(ConfigError, match=message):
        model_variables(models, urls)


def test_models_env_leaves_secrets_to_fill_and_comments_out_optional_keys():
    text = render_models_env(model_variables(["vllm/a", "openai/gpt-4o"], {"vllm/a": "http://a"}))
    lines = text.splitlines()
    assert "VLLM_BASE_URL=http://a" in lines
    assert "# VLLM_API_KEY=" in lines
    assert "OPENAI_API_KEY=" in lines
