"""A corpus of bad stack files: each is refused with the file, the YAML path, its line and what is allowed."""

from pathlib import Path

import pytest

from platform_lib.config.loader import ConfigError, load_stack_file

BAD = sorted((Path(__file__).parent / "bad").glob("Pulumi.*.yaml"))


def expectation(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name} must start with '# expect: <message>'"
    return first.removeprefix("# expect: ")


@pytest.mark.parametrize("path", BAD, ids=[p.name for p in BAD])
def test_bad_config_is_refused_with_location(path):
    with pytest.raises(ConfigError) as caught:
        load_stack_file(path)
    message = str(caught.value)
    assert str(path) in message
    assert expectation(path) in message, message


def test_corpus_is_not_empty():
    assert len(BAD) >= 20


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="No such file"):
        load_stack_file(tmp_path / "Pulumi.ghost.yaml")


def test_misnamed_file_is_a_config_error(tmp_path):
    path = tmp_path / "fraud.yaml"
    path.write_text("config: {}\n")
    with pytest.raises(ConfigError, match="Pulumi.<stack>.yaml"):
        load_stack_file(path)
