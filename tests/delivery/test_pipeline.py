"""The retraining pipeline: its definition (the CLI's own requests, checked against the definition schema written
here and botocore's service model), and `mlp pipeline run --target local` step by step on moto."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from platform_lib import outputs
from platform_lib.cli.app import app
from platform_lib.config.schema.models import ModelDeclaration
from platform_lib.pipeline import check
from platform_lib.pipeline.definition import Spec, definition, training_request
from platform_lib.targets.sagemaker import SageMakerTarget

ROOT = Path(__file__).resolve().parents[2]
RETRAINING = {"image": "fraud/training:1.2.0", "servingImage": "fraud/serving:1.4.0",
              "schedule": "cron(0 3 ? * MON *)", "hyperparameters": {"epochs": "3"}}


def declaration(*gates: str) -> ModelDeclaration:
    return ModelDeclaration.model_validate({"name": "digits", "description": "Handwritten digits",
                                            "gates": list(gates), "retraining": RETRAINING})


@pytest.fixture(scope="module")
def spec(planned) -> Spec:
    team = outputs.team("fraud-dev", planned)
    platform = outputs.platform("fraud-dev", planned)
    return Spec(team, declaration("validation_accuracy >= 0.95", "validation_loss < 0.5"), platform,
                {"team": "fraud", "env": "dev"})


def test_the_definition_is_the_clis_requests_and_passes_every_check(spec):
    document = definition(spec)
    assert check.problems(document, spec.name) == []
    prepare, train, evaluate, gates = document["Steps"]
    expected = SageMakerTarget(None, "fraud-dev", spec.platform, tags=spec.tags).training_job_request(  # type: ignore[arg-type]
        training_request(spec, "x", {"train": "s3://b/train/", "validation": "s3://b/validation/"}))
    del expected["TrainingJobName"]
    expected["EnableNetworkIsolation"] = True   # the image's code: nothing to fetch, so isolated
    for channel in expected["InputDataConfig"]:
        channel["DataSource"]["S3DataSource"]["S3Uri"] = {
            "Get": f"Steps.Prepare.ProcessingOutputConfig.Outputs['{channel['ChannelName']}'].S3Output.S3Uri"}
    assert train == {"Name": "Train", "Type": "Training", "Arguments": expected}
    arguments = train["Arguments"]
    assert arguments["AlgorithmSpecification"]["TrainingImage"] == \
        "111111111111.dkr.ecr.eu-west-1.amazonaws.com/fraud/training:1.2.0"
    # Prepare: the channels' files, snapshotted under the execution's id in the curated tier (data key, isolated)
    curated, data_key = "fraud-dev-curated-111111111111-euw1", spec.team.key_arns["data"]["eu-west-1"]
    steps = prepare["Arguments"]
    assert [(i["InputName"], i["S3Input"]["S3Uri"]) for i in steps["ProcessingInputs"]] == [
        ("train", f"s3://{curated}/training/digits/train/"),
        ("validation", f"s3://{curated}/training/digits/validation/")]
    assert steps["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"] == {"Std:Join": {"On": "", "Values": [
        f"s3://{curated}/pipelines/digits/", {"Get": "Execution.PipelineExecutionId"}, "/train/"]}}
    assert steps["ProcessingOutputConfig"]["KmsKeyId"] == steps["ProcessingResources"]["ClusterConfig"][
        "VolumeKmsKeyId"] == data_key
    assert steps["AppSpecification"]["ContainerEntrypoint"] == ["python", "-m", "platform_lib.pipeline.prepare"]
    assert steps["AppSpecification"]["ContainerArguments"] == ["--channel=train", "--channel=validation"]
    assert steps["NetworkConfig"] == {"EnableInterContainerTrafficEncryption": True, "EnableNetworkIsolation": True,
                                      "VpcConfig": arguments["VpcConfig"]}
    assert steps["RoleArn"] == spec.team.execution_role_arn
    assert arguments["RoleArn"] == spec.team.execution_role_arn and arguments["VpcConfig"]["Subnets"]
    assert arguments["OutputDataConfig"]["KmsKeyId"] == arguments["ResourceConfig"]["VolumeKmsKeyId"] == \
        spec.team.key_arns["models"]["eu-west-1"]
    assert evaluate["Arguments"]["ProcessingInputs"][0]["S3Input"]["S3Uri"] == \
        {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}
    assert evaluate["Arguments"]["NetworkConfig"]["VpcConfig"] == arguments["VpcConfig"]
    conditions = gates["Arguments"]["Conditions"]
    assert [(c["Type"], c["LeftValue"]["Std:JsonGet"]["Path"], c["RightValue"]) for c in conditions] == [
        ("GreaterThanOrEqualTo", "metrics.validation_accuracy.value", 0.95),
        ("LessThan", "metrics.validation_loss.value", 0.5)]
    (register,) = gates["Arguments"]["IfSteps"]
    assert register["Arguments"]["ModelPackageGroupName"] == "fraud-dev-digits"
    assert register["Arguments"]["ModelApprovalStatus"] == "PendingManualApproval"
    assert register["Arguments"]["InferenceSpecification"]["Containers"][0]["Image"] == \
        "111111111111.dkr.ecr.eu-west-1.amazonaws.com/fraud/serving:1.4.0"
    assert gates["Arguments"]["ElseSteps"][0]["Type"] == "Fail"


def _drop(path: list, document: dict) -> None:
    node = document
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]


MUTATIONS = {
    "training without a role": (lambda d: _drop(["Steps", 1, "Arguments", "RoleArn"], d),
                                "Train: CreateTrainingJob: Missing required parameter in input: \"RoleArn\""),
    "job name set by hand": (lambda d: d["Steps"][1]["Arguments"].update(TrainingJobName="fixed"),
                             "Train: Arguments.TrainingJobName is set"),
    "unknown processing key": (lambda d: d["Steps"][2]["Arguments"].update(ProcessingJobTimeout=60),
                               "Unknown parameter in input: \"ProcessingJobTimeout\""),
    "instance count as text": (
        lambda d: d["Steps"][1]["Arguments"]["ResourceConfig"].update(InstanceCount="1"),
        "Invalid type for parameter ResourceConfig.InstanceCount"),
    "unknown condition": (lambda d: d["Steps"][3]["Arguments"]["Conditions"][0].update(Type="AtLeast"),
                          "Steps/3/Arguments/Conditions/0/Type: 'AtLeast' is not one of"),
    "dangling dependency": (lambda d: d["Steps"][2].update(DependsOn=["Training"]),
                            "Evaluate: DependsOn names no step 'Training'"),
    "unknown property file": (
        lambda d: d["Steps"][3]["Arguments"]["Conditions"][0]["LeftValue"]["Std:JsonGet"]["PropertyFile"].update(
            Get="Steps.Evaluate.PropertyFiles.Metrics"),
        "'Steps.Evaluate.PropertyFiles.Metrics' names no property file of step Evaluate"),
    "duplicate step name": (lambda d: d["Steps"][2].update(Name="Train"), "step name 'Train' is used twice"),
    "bad step name": (lambda d: d["Steps"][1].update(Name="train step"), "Steps/1/Name: 'train step' does not match"),
    "registration without containers": (
        lambda d: _drop(["Steps", 3, "Arguments", "IfSteps", 0, "Arguments", "InferenceSpecification", "Containers"],
                        d),
        "Register: CreateModelPackage: Missing required parameter in InferenceSpecification: \"Containers\""),
    "training reads an output Prepare does not write": (
        lambda d: d["Steps"][1]["Arguments"]["InputDataConfig"][0]["DataSource"]["S3DataSource"].update(
            S3Uri={"Get": "Steps.Prepare.ProcessingOutputConfig.Outputs['training'].S3Output.S3Uri"}),
        "names no output of step Prepare"),
    "too many container arguments": (
        lambda d: d["Steps"][0]["Arguments"]["AppSpecification"].update(ContainerArguments=["--channel=x"] * 101),
        "Prepare: CreateProcessingJob: AppSpecification.ContainerArguments has 101 items; at most 100"),
    "prepare without its entry point": (
        lambda d: d["Steps"][0]["Arguments"]["AppSpecification"].update(ContainerEntrypoint="python"),
        "Invalid type for parameter AppSpecification.ContainerEntrypoint"),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_the_checks_find_each_defect(spec, mutation):
    document = copy.deepcopy(definition(spec))
    mutate, expected = MUTATIONS[mutation]
    mutate(document)
    found = check.problems(document, spec.name)
    assert any(expected in problem for problem in found), found


def test_retraining_needs_a_gate_and_its_schedule_and_instance_are_per_environment():
    from platform_lib.config.schema.base import per_environment
    from platform_lib.config.schema.models import Retraining

    with pytest.raises(ValueError, match="declare at least one gate"):
        declaration()
    assert {n for n, f in Retraining.model_fields.items() if per_environment(f)} == {"schedule", "instance_type"}


# ---- mlp pipeline show|run on moto --------------------------------------------------------------------------

def stacks_with_retraining(tmp_path: Path, gate: str) -> Path:
    """The example stacks, with fraud-dev's digits retrained on a short run and gated by ``gate``."""
    directory = tmp_path / "stacks"
    shutil.copytree(ROOT / "stacks", directory)
    path = directory / "Pulumi.fraud-dev.yaml"
    text = path.read_text()
    declared = '        gates: ["validation_accuracy >= 0.95"]\n'
    retraining = "          instanceType: ml.m5.large\n"
    assert declared in text and retraining in text
    text = text.replace(declared, f'        gates: ["{gate}"]\n')
    path.write_text(text.replace(retraining, retraining + '          hyperparameters: {epochs: "3", lr: "0.01"}\n'
                                 '          dataPrefix: datasets/digits/\n'))
    return directory


def without_retraining(stacks: Path) -> Path:
    path = stacks / "Pulumi.fraud-dev.yaml"
    text = path.read_text()
    start = text.index("        # Retrained weekly")
    path.write_text(text[:start] + text[text.index("  # Served cheaply"):])
    return stacks


@pytest.fixture
def mlp(team, tmp_path, monkeypatch):
    monkeypatch.setenv("MLP_STATE_DIR", str(tmp_path / "state"))
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, [*args, "--plan", str(team.plan)])
        return result.exit_code, result.output
    return run


def test_show_prints_the_definition_of_the_stack_file(mlp, tmp_path):
    stacks = stacks_with_retraining(tmp_path, "validation_accuracy >= 0.9")
    code, output = mlp("pipeline", "show", "--stack", "fraud-dev", "--model", "digits", "--stacks-dir", str(stacks))
    assert code == 0, output
    shown = json.loads(output)
    assert shown["Steps"][3]["Arguments"]["Conditions"][0]["RightValue"] == 0.9
    assert check.problems(shown) == []


@pytest.mark.parametrize(("args", "message"), [
    (["--model", "nope"], "unknown model 'nope'; declared: digits"),
    (["--model", "digits", "--stacks-dir", "NONE"], "model 'digits' declares no retraining"),
    (["--model", "digits", "--target", "sagemaker"], "start-pipeline-execution"),
])
def test_bad_input_exits_2(mlp, tmp_path, args, message):
    stacks = stacks_with_retraining(tmp_path, "validation_accuracy >= 0.9")
    args = [str(without_retraining(stacks)) if a == "NONE" else a for a in args]
    if "--stacks-dir" not in args:
        args += ["--stacks-dir", str(stacks)]
    code, output = mlp("pipeline", "run", "--stack", "fraud-dev", *args)
    assert code == 2 and message in " ".join(output.split()), output


@pytest.fixture
def digits_uploaded(team, tmp_path):
    from platform_lib import channels
    from training.examples.digits.dataset import export

    out = tmp_path / "digits"
    export(out)
    return channels.upload(team.aws.client("s3"), team.outputs, "digits",
                           {"train": out / "train", "validation": out / "validation"})


def _packages(team) -> list:
    return team.aws.client("sagemaker").list_model_packages(ModelPackageGroupName="fraud-dev-digits")[
        "ModelPackageSummaryList"]


@pytest.mark.slow
def test_local_run_trains_evaluates_checks_and_registers_pending(mlp, team, tmp_path, digits_uploaded, monkeypatch):
    prefix = digits_uploaded["train"].split("/", 3)[3].rsplit("train/", 1)[0]   # datasets/digits/<hash>/
    stacks = stacks_with_retraining(tmp_path, "validation_accuracy >= 0.5")
    path = stacks / "Pulumi.fraud-dev.yaml"
    path.write_text(path.read_text().replace("dataPrefix: datasets/digits/", f"dataPrefix: {prefix}"))
    code, output = mlp("pipeline", "run", "--stack", "fraud-dev", "--model", "digits", "--stacks-dir", str(stacks),
                       "--json")
    assert code == 0, output
    run = json.loads(output[output.index("{\n"):])
    assert [(s["name"], s["status"]) for s in run["steps"]] == [
        ("Prepare", "Succeeded"), ("Train", "Succeeded"), ("Evaluate", "Succeeded"), ("CheckGates", "Succeeded"),
        ("Register", "Succeeded")]
    assert run["package"]["status"] == "PendingManualApproval" and run["package"]["version"] == 1
    assert run["package"]["metrics"]["validation_accuracy"] == pytest.approx(run["metrics"]["validation_accuracy"])
    assert len(_packages(team)) == 1

    path.write_text(path.read_text().replace("validation_accuracy >= 0.5", "validation_accuracy > 1"))
    code, output = mlp("pipeline", "run", "--stack", "fraud-dev", "--model", "digits", "--stacks-dir", str(stacks))
    assert code == 2
    assert "metrics.validation_accuracy.value > 1: got" in " ".join(output.split())
    assert len(_packages(team)) == 1   # below the gate: nothing registered


def _archive(path: Path, files: dict[str, str]) -> Path:
    import io
    import tarfile

    with tarfile.open(path, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_the_evaluation_step_writes_the_cards_metrics_or_fails_with_a_reason(tmp_path, monkeypatch):
    from training import evaluation

    monkeypatch.setenv("SAGEMAKER_PROCESSING_DIR", str(tmp_path))
    (tmp_path / "model").mkdir()
    card = json.dumps({"metrics": {"validation_accuracy": 0.97, "epoch": 3, "passed": True, "note": "x"}})
    _archive(tmp_path / "model" / "model.tar.gz", {"model.pt": "w", "model_card.json": card})
    assert evaluation.main() == 0
    written = json.loads((tmp_path / "evaluation" / "evaluation.json").read_text())
    assert written == {"metrics": {"epoch": {"value": 3.0}, "validation_accuracy": {"value": 0.97}}}

    _archive(tmp_path / "model" / "model.tar.gz", {"model.pt": "w", "code/model_card.json": card})
    assert evaluation.main() == 1
    assert "holds no model_card.json at its top level" in (tmp_path / "evaluation" / "failure").read_text()


@pytest.mark.slow
def test_local_run_of_a_feature_store_model_prepares_its_training_set_from_the_local_store(mlp, team, tmp_path):
    """fraud-dev's scorer: labels under labels/scorer/ on (moto) S3, features in the local store of mlp features;
    Prepare builds the point-in-time sets, the fraud example trains on them, the version is registered pending."""
    from platform_lib.config.loader import load_stack_file
    from platform_lib.features.client import FeatureClient
    from platform_lib.features.local import LocalBackend
    from training.examples.fraud import transactions

    stacks = tmp_path / "stacks"
    shutil.copytree(ROOT / "stacks", stacks)
    path = stacks / "Pulumi.fraud-dev.yaml"
    path.write_text(path.read_text().replace('gates: ["validation_accuracy >= 0.9"]',
                                             'gates: ["validation_accuracy >= 0.5"]')
                    .replace("hyperparameters: {sagemaker_program: training.examples.fraud}",
                             'hyperparameters: {sagemaker_program: training.examples.fraud, epochs: "3"}'))
    files = transactions.write(tmp_path / "data", cards=60)
    declared = load_stack_file(path).config.features  # type: ignore[union-attr]
    backend = LocalBackend(tmp_path / "features")
    assert FeatureClient(declared, backend).ingest("transactions", files["features"]).ok
    backend.close()
    s3 = team.aws.client("s3")
    bucket, key = outputs.data_location(team.outputs, "curated")
    for channel in ("train", "validation"):
        s3.upload_file(str(files[channel]), bucket, f"labels/scorer/{channel}/batch-1.csv",
                       ExtraArgs={"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": key})
    team.aws.client("sagemaker").create_model_package_group(ModelPackageGroupName="fraud-dev-scorer")

    code, output = mlp("pipeline", "run", "--stack", "fraud-dev", "--model", "scorer", "--stacks-dir", str(stacks),
                       "--features-dir", str(tmp_path / "features"), "--json")
    assert code == 0, output
    run = json.loads(output[output.index("{\n"):])
    assert [(s["name"], s["status"]) for s in run["steps"]] == [
        ("Prepare", "Succeeded"), ("Train", "Succeeded"), ("Evaluate", "Succeeded"), ("CheckGates", "Succeeded"),
        ("Register", "Succeeded")]
    prepared = run["steps"][0]["detail"].split(", ")
    assert prepared[0].startswith(f"s3://{bucket}/pipelines/scorer/scorer-retrain-") and prepared[0].endswith("/train/")
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=prepared[0].split("/", 3)[3])["Contents"]
    assert [o["Key"].rsplit("/", 1)[-1] for o in listed] == ["transactions.csv"]
    body = s3.get_object(Bucket=bucket, Key=listed[0]["Key"])["Body"].read().decode()
    assert body.splitlines()[0] == "card_id,event_time,is_fraud,amount,merchant_category,count_24h,amount_24h," \
                                   "feature_event_time"
    assert run["package"]["status"] == "PendingManualApproval"


@pytest.mark.parametrize(("labels", "reason"), [
    (False, "no files in"),                                      # nothing uploaded under labels/scorer/train/
    (True, "none of the 2 label rows"),                          # labels, but an empty local feature store
])
def test_a_failed_prepare_stops_the_run_before_training(mlp, team, tmp_path, labels, reason):
    if labels:
        bucket, key = outputs.data_location(team.outputs, "curated")
        body = b"card_id,event_time,is_fraud\ncard-00001,2026-10-02T00:00:00Z,0\ncard-00002,2026-10-02T00:00:00Z,1\n"
        for channel in ("train", "validation"):
            team.aws.client("s3").put_object(Bucket=bucket, Key=f"labels/scorer/{channel}/batch.csv", Body=body,
                                             ServerSideEncryption="aws:kms", SSEKMSKeyId=key)
    code, output = mlp("pipeline", "run", "--stack", "fraud-dev", "--model", "scorer", "--stacks-dir",
                       str(ROOT / "stacks"), "--features-dir", str(tmp_path / "empty-store"), "--json")
    assert code == 2, output
    run = json.loads(output[output.index("{\n"):])
    assert [(s["name"], s["status"]) for s in run["steps"]] == [
        ("Prepare", "Failed"), ("Train", "Skipped"), ("Evaluate", "Skipped"), ("CheckGates", "Skipped"),
        ("Register", "Skipped")]
    assert reason in run["steps"][0]["detail"] and run["package"] is None


def test_a_feature_group_too_wide_for_the_steps_arguments_is_refused_by_name(spec):
    from platform_lib.config.schema.features import FeatureGroup
    from platform_lib.pipeline.definition import PipelineError, prepare_arguments

    features = [{"name": "id", "type": "String"}, {"name": "t", "type": "Fractional"},
                *({"name": f"f{i}", "type": "Fractional"} for i in range(93))]
    group = FeatureGroup.model_validate({"name": "wide", "description": "d", "recordIdentifier": "id",
                                         "eventTime": "t", "features": features})
    model = spec.model.model_copy(update={"retraining": spec.retraining.model_copy(update={"feature_group": "wide"})})
    team = spec.team.model_copy(update={"feature_groups": {"wide": "fraud-dev-wide"}})
    wide = Spec(team, model, spec.platform, spec.tags, group)
    with pytest.raises(PipelineError, match=r"feature group 'wide' has 95 features: .* at most 100 \(101 here\)"):
        prepare_arguments(wide)
    narrower = group.model_copy(update={"features": group.features[:-1]})
    assert len(prepare_arguments(Spec(team, model, spec.platform, spec.tags, narrower))) == 100
    with pytest.raises(PipelineError, match="give its declaration"):
        prepare_arguments(Spec(team, model, spec.platform, spec.tags))


def test_a_published_schema_of_another_shape_is_refused_with_a_pointer_to_the_gaps(tmp_path, spec):
    """check.widened knows where AWS's published schema lacks what the service accepts; a schema that no longer
    has those places is not silently trusted."""
    other = tmp_path / "schema.json"
    other.write_text(json.dumps({"type": "object", "definitions": {"GetFunction": {"type": "object"}}}))
    with pytest.raises(ValueError, match="PUBLISHED_SCHEMA_GAPS"):
        check.published_problems(definition(spec), other)
