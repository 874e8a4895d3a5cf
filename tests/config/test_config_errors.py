"""A corpus of bad stack files: each is refused with the file, the YAML path, its line, the value given
and what is allowed. Each file starts with the exact problem lines it must produce (``# expect: ...``)."""

from pathlib import Path

import pytest

from platform_lib.config.loader import ConfigError, load_stack_file

BAD = sorted((Path(__file__).parent / "bad").glob("Pulumi.*.yaml"))


def expectations(path: Path) -> list[str]:
    lines = path.read_bytes().decode("utf-8", errors="replace").splitlines()
    expected = [line.removeprefix("# expect: ") for line in lines if line.startswith("# expect: ")]
    assert expected, f"{path.name} must start with '# expect: <problem>' lines"
    return expected


@pytest.mark.parametrize("path", BAD, ids=[p.name for p in BAD])
def test_bad_config_is_refused_with_location(path):
    with pytest.raises(ConfigError) as caught:
        load_stack_file(path)
    assert caught.value.source == str(path)
    assert str(caught.value).startswith(f"invalid stack config {path}:\n")
    assert [str(problem) for problem in caught.value.problems] == expectations(path)


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_stack_file(tmp_path / "Pulumi.ghost.yaml")
    assert [str(p) for p in caught.value.problems] == ["(file): No such file or directory"]


def test_a_directory_is_a_config_error(tmp_path):
    (tmp_path / "Pulumi.dir.yaml").mkdir()
    with pytest.raises(ConfigError) as caught:
        load_stack_file(tmp_path / "Pulumi.dir.yaml")
    assert [str(p) for p in caught.value.problems] == ["(file): Is a directory"]


def test_misnamed_file_is_a_config_error(tmp_path):
    path = tmp_path / "fraud.yaml"
    path.write_text("config: {}\n")
    with pytest.raises(ConfigError) as caught:
        load_stack_file(path)
    assert [str(p) for p in caught.value.problems] == ["(file name): stack files are named Pulumi.<stack>.yaml"]


def test_deeply_nested_yaml_is_a_config_error(tmp_path):
    path = tmp_path / "Pulumi.deep.yaml"
    path.write_text("config:\n  x:y: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ConfigError) as caught:
        load_stack_file(path)
    assert [str(p) for p in caught.value.problems] == ["(yaml): not a stack file: values are nested too deeply"]
