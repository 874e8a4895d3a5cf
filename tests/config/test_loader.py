"""The loader: duplicate keys, anchors, key lines, and the platform stack a team stack reads."""

from pathlib import Path

import pytest

from platform_lib.config.loader import ConfigError, load_stack_file, platform_stack_file
from platform_lib.config.schema import TeamConfig

STACKS = Path(__file__).resolve().parents[2] / "stacks"
TEAM = """config:
  ml-platform:kind: team
  ml-platform:team: search
  ml-platform:environment: dev
  ml-platform:accountId: "111111111111"
  ml-platform:primaryRegion: eu-west-1
  ml-platform:costCenter: search
  ml-platform:owners: [search@example.com]
"""


def test_key_lines_name_every_key_of_the_file():
    stack = load_stack_file(STACKS / "Pulumi.platform-prod.yaml")
    assert stack.line("config") == 3
    assert stack.line("ml-platform:kind") == 5
    assert stack.line("ml-platform:network.cidrs.us-east-1") == 15
    assert stack.line("ml-platform:ci.githubRepo") == 18
    assert stack.line("ml-platform:platformStack") is None


def test_anchors_and_merge_keys_are_not_duplicates(tmp_path):
    path = tmp_path / "Pulumi.search-dev.yaml"
    path.write_text(TEAM + "  ml-platform:storage:\n"
                           "    <<: &lifecycle {tieringAfterDays: 10, rawArchiveAfterDays: 40}\n"
                           "    rawArchiveAfterDays: 60\n")
    config = load_stack_file(path).config
    assert isinstance(config, TeamConfig)
    storage = config.storage
    assert (storage.tiering_after_days, storage.raw_archive_after_days) == (10, 60)


def test_a_team_reads_the_platform_stack_of_its_environment(tmp_path):
    (tmp_path / "Pulumi.platform-dev.yaml").write_text((STACKS / "Pulumi.platform-dev.yaml").read_text())
    (tmp_path / "Pulumi.search-dev.yaml").write_text(TEAM)
    platform = platform_stack_file(load_stack_file(tmp_path / "Pulumi.search-dev.yaml"))
    assert (platform.name, platform.config.kind) == ("platform-dev", "platform")


def test_a_missing_platform_stack_is_named(tmp_path):
    (tmp_path / "Pulumi.search-dev.yaml").write_text(TEAM)
    with pytest.raises(ConfigError) as caught:
        platform_stack_file(load_stack_file(tmp_path / "Pulumi.search-dev.yaml"))
    assert [str(p) for p in caught.value.problems] == [
        f"line 4: ml-platform:environment: the platform stack platform-dev (the default for environment dev) "
        f"has no stack file: {tmp_path / 'Pulumi.platform-dev.yaml'} does not exist"
    ]


def test_a_platform_stack_that_is_a_team_stack_is_named(tmp_path):
    (tmp_path / "Pulumi.fraud-dev.yaml").write_text((STACKS / "Pulumi.fraud-dev.yaml").read_text())
    (tmp_path / "Pulumi.search-dev.yaml").write_text(TEAM + "  ml-platform:platformStack: fraud-dev\n")
    with pytest.raises(ConfigError) as caught:
        platform_stack_file(load_stack_file(tmp_path / "Pulumi.search-dev.yaml"))
    assert caught.value.source == str(tmp_path / "Pulumi.search-dev.yaml")
    assert [str(p) for p in caught.value.problems] == [
        f"line 9: ml-platform:platformStack: fraud-dev is a team stack ({tmp_path / 'Pulumi.fraud-dev.yaml'}), "
        f"not a platform stack"
    ]
