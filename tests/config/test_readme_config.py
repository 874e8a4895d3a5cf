"""The README's configuration section is true: its defaults are the schema's, what it says is refused is
refused, and the example stack files' headers stay true when a file is copied for a new team."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from platform_lib.config import loader
from platform_lib.config.schema import ENVIRONMENT_DEFAULTS, ENVIRONMENTS, PlatformConfig, Section, TeamConfig

ROOT = Path(__file__).resolve().parents[2]
BAD = Path(__file__).parent / "bad"


def config_rows() -> dict[str, list[str]]:
    """The "Configuration keys" table: each row's keys (``network.azCount``) -> its cells."""
    section = ROOT.joinpath("README.md").read_text().split("### Configuration keys", 1)[1].split("\n### ", 1)[0]
    rows: dict[str, list[str]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| `"):
            for key in re.findall(r"`([A-Za-z.]+)`", cells[0]):
                rows[key] = cells
    return rows


def readme_default(keys: list[str]) -> str:
    """How the README states environment defaults: ``dev 2/single/false, staging ..., prod ...``
    (environments without a default for these keys are left out)."""
    def value(environment: str, key: str) -> str | None:
        section, name = key.split(".")
        found = ENVIRONMENT_DEFAULTS[environment].get(section, {}).get(name)
        return str(found).lower() if isinstance(found, bool) else None if found is None else str(found)

    stated = {env: [value(env, key) for key in keys] for env in ENVIRONMENTS}
    return ", ".join(f"{env} " + "/".join(map(str, values)) for env, values in stated.items() if None not in values)


def test_every_environment_default_is_stated_in_the_readme():
    rows = config_rows()
    defaulted = {f"{section}.{name}" for defaults in ENVIRONMENT_DEFAULTS.values()
                 for section, values in defaults.items() for name in values}
    assert defaulted >= {"logs.retentionDays", "network.azCount", "network.endpointsMultiAz", "network.nat",
                         "storage.noncurrentVersionExpiryDays"}
    for key in sorted(defaulted):
        cells = rows[key]
        keys_of_row = [k for k, row in rows.items() if row is cells]
        assert cells[3].startswith(readme_default(keys_of_row)), (key, cells[3])


def test_readme_rows_name_every_key_of_the_schema():
    documented = set(config_rows())
    for model in (PlatformConfig, TeamConfig):
        for name, field in model.model_fields.items():
            alias = field.alias or name
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, Section):
                assert {f"{alias}.{f.alias}" for f in annotation.model_fields.values()} <= documented, alias
            else:
                assert alias in documented, alias


def staging(tmp_path: Path, text: str) -> loader.StackFile:
    path = tmp_path / "Pulumi.x-staging.yaml"
    path.write_text(text)
    return loader.load_stack_file(path)


def test_staging_gets_the_staging_defaults(tmp_path):
    platform = staging(tmp_path, """config:
  ml-platform:kind: platform
  ml-platform:environment: staging
  ml-platform:accountId: "333333333333"
  ml-platform:primaryRegion: eu-west-1
  ml-platform:costCenter: ml-platform
  ml-platform:owners: [platform@example.com]
  ml-platform:network: {cidrs: {eu-west-1: 10.30.0.0/16}}
  ml-platform:ci: {githubOrg: example-org, githubRepo: ml-platform}
""").config
    assert isinstance(platform, PlatformConfig)
    network = platform.network
    assert (network.az_count, network.nat, network.endpoints_multi_az) == (2, "single", False)
    assert platform.logs.retention_days == 90
    assert platform.protect_stateful is False
    team = staging(tmp_path, """config:
  ml-platform:kind: team
  ml-platform:team: search
  ml-platform:environment: staging
  ml-platform:accountId: "333333333333"
  ml-platform:primaryRegion: eu-west-1
  ml-platform:costCenter: search
  ml-platform:owners: [search@example.com]
""").config
    assert isinstance(team, TeamConfig)
    assert (team.storage.tiering_after_days, team.storage.raw_archive_after_days,
            team.storage.noncurrent_version_expiry_days, team.logs.retention_days) == (0, 90, 90, 90)
    assert team.platform_stack_name == "platform-staging"


# What the README says is refused, and a stack file of the corpus that shows it.
REFUSALS = {
    "an unknown key, or a key twice": ["Pulumi.unknown-key.yaml", "Pulumi.duplicate-key.yaml"],
    "no `true` for a number, no `\"3\"` for a number, no `\"true\"` for a boolean":
        ["Pulumi.bool-as-int.yaml", "Pulumi.text-as-bool.yaml"],
    "an unquoted `accountId`": ["Pulumi.unquoted-account.yaml", "Pulumi.unquoted-account-leading-zero.yaml"],
    "bytes that are not UTF-8, or aliases that expand to more than 10,000 values":
        ["Pulumi.not-utf8.yaml", "Pulumi.alias-bomb.yaml"],
    "(must include the primary)": ["Pulumi.serving-without-primary.yaml"],
    "a private /16–/22 per region, non-overlapping":
        ["Pulumi.public-cidr.yaml", "Pulumi.overlapping-cidrs.yaml"],
    "prod refuses fewer than 2 AZs or a NAT other than per-az": ["Pulumi.prod-single-az.yaml",
                                                                "Pulumi.prod-single-nat.yaml"],
    "not `platform`, no `dev`/`staging`/`prod` word": ["Pulumi.reserved-team.yaml", "Pulumi.team-named-like-env.yaml"],
    "12-digit account id in quotes": ["Pulumi.short-account.yaml"],
}


@pytest.mark.parametrize("claim", REFUSALS)
def test_what_the_readme_says_is_refused_is_refused(claim):
    assert claim in ROOT.joinpath("README.md").read_text()
    for name in REFUSALS[claim]:
        with pytest.raises(loader.ConfigError):
            loader.load_stack_file(BAD / name)


@pytest.mark.parametrize("path", sorted((ROOT / "stacks").glob("Pulumi.*.yaml")), ids=lambda p: p.name)
def test_example_headers_stay_true_in_a_copy(path):
    """A team file is copied for a new team (README): its header must not name the example's team."""
    stack = loader.load_stack_file(path)
    header = path.read_text().split("\nconfig:", 1)[0]
    if isinstance(stack.config, TeamConfig):
        assert stack.config.team not in header
        assert f"copy this file to Pulumi.<team>-{stack.config.environment}.yaml" in header
    assert f", {stack.config.environment}:" in header or f"in {stack.config.environment}, on " in header
