"""Hyperparameters arrive as strings (or JSON-quoted strings from the SageMaker SDK) and are validated."""

from __future__ import annotations

import pytest

from training.errors import HyperparameterError
from training.examples.digits.hyperparameters import Hyperparameters, parse


def test_string_values_are_parsed_to_typed_values() -> None:
    hp = parse({"epochs": "3", "batch_size": "32", "lr": "1e-2", "dropout": ".25", "hidden_sizes": "32, 16",
                "optimizer": "sgd", "seed": "0", "label_column": "0"})
    assert (hp.epochs, hp.batch_size, hp.lr, hp.dropout) == (3, 32, 0.01, 0.25)
    assert hp.hidden_sizes == (32, 16) and hp.optimizer == "sgd" and hp.seed == 0
    assert hp.label_column == "0"  # text stays text even when it looks like a number


def test_sdk_json_encoded_values_and_reserved_keys() -> None:
    hp = parse({"optimizer": '"adam"', "hidden_sizes": "[8, 4]", "sagemaker_program": '"train.py"',
                "sagemaker_region": '"eu-west-1"', "_tuning_objective_metric": "validation:accuracy"})
    assert hp.optimizer == "adam" and hp.hidden_sizes == (8, 4)


def test_defaults_when_nothing_is_set() -> None:
    assert parse({}) == Hyperparameters()


@pytest.mark.parametrize(("raw", "expected"), [
    ({"epochs": "0"}, "epochs='0': input should be greater than 0"),
    ({"epochs": "2.5"}, "epochs='2.5'"),
    ({"epochs": "true"}, "not a boolean"),
    ({"lr": "fast"}, "lr='fast': input should be a valid number"),
    ({"lr": "nan"}, "finite"),
    ({"dropout": "1"}, "dropout='1': input should be less than 1"),
    ({"optimizer": "rmsprop"}, "'adam' or 'sgd'"),
    ({"hidden_sizes": "64,x"}, "comma-separated list of positive integers"),
    ({"hidden_sizes": "64,0"}, "every width a positive integer"),
    ({"epoch": "3"}, "unknown hyperparameter 'epoch' (did you mean 'epochs'?)"),
])
def test_invalid_values_are_explained(raw: dict[str, str], expected: str) -> None:
    with pytest.raises(HyperparameterError) as info:
        parse(raw)
    reason = info.value.reason()
    assert reason.startswith("Invalid hyperparameters: ") and expected in reason
    assert "\n" not in reason


def test_all_problems_reported_at_once() -> None:
    with pytest.raises(HyperparameterError) as info:
        parse({"epochs": "-1", "batch_size": "0"})
    assert "epochs=" in str(info.value) and "batch_size=" in str(info.value)


def test_resume_key_ignores_only_epochs() -> None:
    assert parse({"epochs": "3"}).resume_key() == parse({"epochs": "30"}).resume_key()
    assert parse({"lr": "0.1"}).resume_key() != parse({}).resume_key()
