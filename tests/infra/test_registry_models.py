"""The model registry as `pulumi up` would create it: a package group per declared model, readable
only by the organisation's other accounts, and a model card template with the model's gates."""

import json
from pathlib import Path

import pytest

from platform_lib.config.loader import ConfigError, load_stack_file
from platform_lib.config.schema import TeamConfig

GROUP = "aws:sagemaker/modelPackageGroup:ModelPackageGroup"
GROUP_POLICY = "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy"
CARD = "aws:sagemaker/modelCard:ModelCard"


def test_each_declared_model_gets_a_group_named_after_the_team(plans):
    view = plans["fraud-dev"]
    groups = view.of_type(GROUP)
    assert [g.inputs["modelPackageGroupName"] for g in groups] == ["fraud-dev-digits", "fraud-dev-scorer"]
    assert all(g.retain_on_delete and not g.protect for g in groups)
    assert plans["fraud-dev"].plan.outputs["modelPackageGroups"] == {"digits": "fraud-dev-digits",
                                                                     "scorer": "fraud-dev-scorer"}
    assert plans["vision-prod"].plan.outputs["modelPackageGroups"] == {"defects": "vision-prod-defects"}
    prod_groups = plans["fraud-prod"].of_type(GROUP)
    assert [g.inputs["modelPackageGroupName"] for g in prod_groups] == ["fraud-prod-digits", "fraud-prod-scorer"]
    assert all(g.protect for g in prod_groups)


def test_the_group_policy_lets_only_the_reader_accounts_read(plans):
    view = plans["fraud-dev"]
    policy, _ = view.of_type(GROUP_POLICY)   # digits, then scorer
    document = json.loads(policy.inputs["resourcePolicy"])
    (statement,) = document["Statement"]
    assert statement["Principal"] == {"AWS": ["arn:aws:iam::222222222222:root"]}
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == ["sagemaker:DescribeModelPackageGroup", "sagemaker:DescribeModelPackage",
                                   "sagemaker:ListModelPackages"]
    assert statement["Resource"] == [
        "arn:aws:sagemaker:eu-west-1:111111111111:model-package-group/fraud-dev-digits",
        "arn:aws:sagemaker:eu-west-1:111111111111:model-package/fraud-dev-digits/*"]
    # without readerAccounts there is no policy at all: the group stays private to its account
    assert plans["fraud-prod"].of_type(GROUP_POLICY) == []


def test_each_model_has_a_draft_model_card_carrying_its_gates(plans):
    view = plans["vision-dev"]
    (card,) = view.of_type(CARD)
    assert card.inputs["modelCardName"] == "vision-dev-defects-card-template"
    assert card.inputs["modelCardStatus"] == "Draft"
    content = json.loads(card.inputs["content"])
    assert content["model_overview"] == {"model_name": "vision-dev-defects", "model_owner": "vision",
                                         "model_description": "Flags surface defects in product photos"}
    metrics = content["evaluation_details"][0]["metric_groups"][0]["metric_data"]
    assert [(m["name"], m["value"], m["notes"]) for m in metrics] == [
        ("validation_accuracy", 0.9, "threshold: approval requires validation_accuracy >= 0.9"),
        ("validation_loss", 0.3, "threshold: approval requires validation_loss < 0.3")]
    assert content["additional_information"]["custom_details"] == {
        "package_group": "vision-dev-defects",
        "promotion_gates": "validation_accuracy >= 0.9; validation_loss < 0.3"}


def team_file(tmp_path: Path, registry: str) -> Path:
    path = tmp_path / "Pulumi.fraud-dev.yaml"
    path.write_text(f"""config:
  ml-platform:kind: team
  ml-platform:team: fraud
  ml-platform:environment: dev
  ml-platform:accountId: "111111111111"
  ml-platform:primaryRegion: eu-west-1
  ml-platform:costCenter: risk
  ml-platform:owners: [a@example.com]
  ml-platform:modelRegistry:
{registry}""")
    return path


def test_gates_are_parsed(tmp_path):
    config = load_stack_file(team_file(tmp_path, """    models:
      - {name: scorer, description: d, gates: ["validation_accuracy >= 0.95", "p99_latency_ms<50", "auc > 9e-1"]}
""")).config
    assert isinstance(config, TeamConfig)
    gates = config.model_registry.model("scorer").gates
    assert [(g.metric, g.comparison, g.threshold) for g in gates] == [
        ("validation_accuracy", ">=", 0.95), ("p99_latency_ms", "<", 50.0), ("auc", ">", 0.9)]
    assert gates[0].passes(0.95) and not gates[0].passes(0.9499)
    assert gates[1].passes(49) and not gates[1].passes(50)


@pytest.mark.parametrize("registry, problem", [
    ("""    models: [{name: scorer, description: d, gates: ["accuracy => 0.9"]}]\n""",
     "line 10: ml-platform:modelRegistry.models.0.gates: 'accuracy => 0.9' is not a gate"),
    ("""    models: [{name: scorer, description: d, gates: [0.9]}]\n""",
     "line 10: ml-platform:modelRegistry.models.0.gates: 0.9 is not a gate"),
    ("""    models: [{name: scorer, description: d, gates: ["a >= 0.9", "a > 0.8"]}]\n""",
     "line 10: ml-platform:modelRegistry.models.0.gates: 'a' gated twice in the same direction"),
    ("""    models: [{name: a, description: d}, {name: a, description: e}]\n""",
     "line 10: ml-platform:modelRegistry.models"),
    ("""    models: [{name: Scorer, description: d}]\n""", "line 10: ml-platform:modelRegistry.models.0.name"),
    ("""    readerAccounts: ["111111111111"]\n""",
     "line 10: ml-platform:modelRegistry.readerAccounts.0: 111111111111 is this stack's own account"),
    ("""    models: [{name: scorer-with-a-name-just-too-long-x, description: d}]\n""",
     "line 10: ml-platform:modelRegistry.models.0.name"),
])
def test_bad_declarations_are_refused_at_their_key(tmp_path, registry, problem):
    with pytest.raises(ConfigError) as caught:
        load_stack_file(team_file(tmp_path, registry))
    assert any(str(p).startswith(problem) for p in caught.value.problems), [str(p) for p in caught.value.problems]
