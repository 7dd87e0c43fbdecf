"""The k8s sandbox's Helm values, checked against the chart inspect-k8s-sandbox ships."""

import pytest
import yaml

from tripwire._errors import ConfigError
from tripwire.scale import WORKDIR, K8sSandbox, helm_values, sandbox_dockerfile
from tripwire.scale._k8s import _helm_merge
from tripwire.scenarios._service import SERVICE_USER


def test_default_values_deny_egress_and_give_guaranteed_resources():
    values = helm_values(K8sSandbox())
    default = values["services"]["default"]
    assert values["networkPolicy"] == {"enabled": True}
    assert values["allowDomains"] == []
    assert default["workingDir"] == WORKDIR
    assert default["resources"]["requests"] == default["resources"]["limits"]
    assert default["runtimeClassName"] == "gvisor"


def test_allowing_domains_needs_the_network_policy():
    with pytest.raises(ConfigError, match="allow_domains needs the network policy"):
        helm_values(K8sSandbox(network_policy=False, allow_domains=("pypi.org",)))
    assert "allowDomains" not in helm_values(K8sSandbox(network_policy=False))


def test_dockerfile_has_the_scenarios_tools_and_the_service_account():
    text = sandbox_dockerfile()
    for package in ("bash", "sqlite3", "procps", "util-linux"):
        assert f" {package}" in text
    assert f"useradd --create-home --shell /bin/sh {SERVICE_USER}" in text
    assert f"WORKDIR {WORKDIR}" in text


def test_helm_merge_merges_maps_replaces_lists_and_deletes_nulls():
    defaults = {"a": {"x": 1, "y": [1, 2]}, "b": 2, "c": 3}
    merged = _helm_merge(defaults, {"a": {"y": [3]}, "c": None})
    assert merged == {"a": {"x": 1, "y": [3]}, "b": 2}
    assert defaults["a"]["y"] == [1, 2]


@pytest.fixture
def k8s_sandbox():
    return pytest.importorskip("k8s_sandbox", reason="pip install inspect-k8s-sandbox")


def test_generated_values_are_valid_for_the_installed_chart(k8s_sandbox):
    from tripwire.scale import validate_helm_values

    sandbox = K8sSandbox(allow_domains=("pypi.org",), image_pull_secrets=("regcred",))
    assert validate_helm_values(helm_values(sandbox)) == []
    assert validate_helm_values(helm_values(K8sSandbox(network_policy=False))) == []


def test_a_field_the_chart_does_not_read_is_reported(k8s_sandbox):
    from tripwire.scale import validate_helm_values

    values = helm_values(K8sSandbox())
    values["services"]["default"]["cpuLimit"] = "1"
    values["networkPolicy"]["enabled"] = "yes"
    problems = validate_helm_values(values)
    assert any(p.startswith("networkPolicy.enabled:") for p in problems), problems
    assert any("cpuLimit" in p for p in problems), problems


def test_the_k8s_provider_reads_the_values_file(k8s_sandbox, tmp_path):
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump(helm_values(K8sSandbox())))
    config = k8s_sandbox.K8sSandboxEnvironment.config_deserialize({"values": str(values)})
    assert isinstance(config, k8s_sandbox.K8sSandboxEnvironmentConfig)
    assert config.values == values
