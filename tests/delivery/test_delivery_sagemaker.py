"""The SageMaker target: against moto where it behaves, against botocore's real service model (Stubber)
for the requests moto accepts blindly or does not implement (update_endpoint, stop_training_job)."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import ANY, Stubber

from platform_lib import guard, outputs, registry
from platform_lib.aws import Aws
from platform_lib.targets.base import DeployRequest, TargetError, TrainingRequest
from platform_lib.targets.sagemaker import SageMakerTarget

TAGS = {"team": "fraud", "env": "dev", "cost-center": "risk-analytics", "managed-by": "mlp/ml-platform"}


def _approved(team):
    sm = team.aws.client("sagemaker")
    package, _ = registry.register(sm, "fraud-dev-digits", image="123.dkr.ecr.eu-west-1.amazonaws.com/serving:1",
                                   model_data_url="s3://b/model.tar.gz", metrics={"validation_accuracy": 0.97},
                                   lineage={"model_sha256": "a" * 64})
    return registry.approve(sm, package)


def test_training_job_completes_and_endpoint_lifecycle_on_moto(team, planned):
    platform = outputs.platform("fraud-dev", planned)
    target = SageMakerTarget(team.aws, "fraud-dev", platform, tags=TAGS, poll_s=0)
    seen: list[str] = []
    result = target.train(TrainingRequest("digits-7", "digits", team.outputs, "img:1",
                                          {"train": "s3://b/t/", "validation": "s3://b/v/"}, {"epochs": "3"}),
                          seen.append)
    assert result.status == "Completed" and result.model_data_url
    job = team.aws.client("sagemaker").describe_training_job(TrainingJobName="digits-7")
    assert job["RoleArn"] == team.outputs.execution_role_arn
    assert job["VpcConfig"]["Subnets"] == platform.networks["eu-west-1"].private_subnet_ids
    package = _approved(team)
    deployment = target.deploy(DeployRequest("fraud-dev-digits-sandbox", package, team.outputs), seen.append)
    assert deployment.status == "InService"
    assert target.status("fraud-dev-digits-sandbox").package_arn == package.arn
    assert target.stop("fraud-dev-digits-sandbox").status == "Deleting"
    assert target.status("fraud-dev-digits-sandbox").status == "NotFound"


def test_unapproved_package_is_not_deployed(team):
    sm = team.aws.client("sagemaker")
    package, _ = registry.register(sm, "fraud-dev-digits", image="i", model_data_url="s3://b/m.tar.gz",
                                   metrics={}, lineage={})
    with pytest.raises(registry.RegistryError, match="not Approved"):
        SageMakerTarget(team.aws, "fraud-dev", tags=TAGS).deploy(DeployRequest("e", package, team.outputs))
    assert sm.list_models()["Models"] == [] and sm.list_endpoint_configs()["EndpointConfigs"] == []


def test_policy_violation_stops_before_anything_is_created(team):
    """A request without the required tags, at prod's levels: refused naming the rule, nothing created."""
    prod_team = team.outputs.model_copy(update={"environment": "prod"})
    target = SageMakerTarget(team.aws, "fraud-dev", tags={})
    with pytest.raises(guard.PolicyViolation, match=r"required-tags \(mandatory\) on aws:sagemaker/model:Model"):
        target.deploy(DeployRequest("e", _approved(team), prod_team))
    with pytest.raises(guard.PolicyViolation, match=r"required-tags .* aws:sagemaker/trainingJob:TrainingJob"):
        target.train(TrainingRequest("j", "digits", prod_team, "img", {"train": "s3://b/t/"}))
    sm = team.aws.client("sagemaker")
    assert sm.list_models()["Models"] == [] and sm.list_training_jobs()["TrainingJobSummaries"] == []
    advisory: list[str] = []
    SageMakerTarget(team.aws, "fraud-dev", tags={}, warn=advisory.append, poll_s=0).train(
        TrainingRequest("j", "digits", team.outputs, "img", {"train": "s3://b/t/"}))
    assert any("required-tags (advisory)" in line for line in advisory)   # dev: reported, not blocking


# ---- exact requests against the real service model --------------------------------------------------

def _stubbed(region="eu-west-1"):
    session = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name=region)
    aws = Aws(session, boto3.session.Config())
    return aws


def test_spot_training_request_and_ctrl_c_stops_the_job(planned):
    team = outputs.team("fraud-dev", planned)
    aws = _stubbed()
    target = SageMakerTarget(aws, "fraud-dev", outputs.platform("fraud-dev", planned), tags=TAGS, poll_s=0)
    request = TrainingRequest("digits-8", "digits", team, "img:1", {"train": "s3://b/t/"}, spot=True,
                              instance_count=2)
    job = target.training_job_request(request)
    key = team.key_arns["models"]["eu-west-1"]
    assert job["ResourceConfig"]["VolumeKmsKeyId"] == key and job["OutputDataConfig"]["KmsKeyId"] == key
    assert job["CheckpointConfig"]["S3Uri"] == "s3://fraud-dev-models-111111111111-euw1/checkpoints/digits/digits-8/"
    assert {d["Name"] for d in job["AlgorithmSpecification"]["MetricDefinitions"]} >= {"validation:accuracy"}
    sm = aws.client("sagemaker")
    with Stubber(sm) as stub:
        stub.add_response("create_training_job", {"TrainingJobArn": "arn:aws:sagemaker:eu-west-1:1:training-job/d"},
                          job)
        stub.add_response("stop_training_job", {}, {"TrainingJobName": "digits-8"})

        def interrupted(*args, **kwargs):
            raise KeyboardInterrupt

        target._wait_job = interrupted  # type: ignore[method-assign]
        with pytest.raises(KeyboardInterrupt):
            target.train(request)
        stub.assert_no_pending_responses()


def test_training_job_is_network_isolated_and_gets_its_code_as_a_channel(planned, tmp_path):
    """The workload boundary denies CreateTrainingJob without network isolation, so the container cannot
    download the source bundle: it arrives as the `code` channel and the entry point unpacks it from there."""
    import io
    import tarfile
    from types import SimpleNamespace

    from infra.guardrails import sagemaker_guardrails
    from training.contract import Paths
    from training.entry_point import code_dir

    team = outputs.team("fraud-dev", planned)
    target = SageMakerTarget(_stubbed(), "fraud-dev", outputs.platform("fraud-dev", planned), tags=TAGS, poll_s=0)
    source = "s3://fraud-dev-models-111111111111-euw1/source/digits/3f2a.tar.gz"
    request = TrainingRequest("digits-9", "digits", team, "img:1", {"train": "s3://b/t/"}, source_uri=source,
                              entry_point="train.py")
    job = target.training_job_request(request)
    isolation = [s for s in sagemaker_guardrails([], [], []) if s["Sid"] == "SageMakerNetworkIsolation"]
    assert isolation and "sagemaker:CreateTrainingJob" in isolation[0]["Action"]
    assert job["EnableNetworkIsolation"] is True
    assert [c["ChannelName"] for c in job["InputDataConfig"]] == ["train", "code"]
    assert job["InputDataConfig"][1]["DataSource"]["S3DataSource"]["S3Uri"] == source
    assert job["HyperParameters"]["sagemaker_submit_directory"] == '"/opt/ml/input/data/code/3f2a.tar.gz"'
    with Stubber(target.aws.client("sagemaker")) as stub:   # the request is valid for the real service model
        stub.add_response("create_training_job", {"TrainingJobArn": "arn:aws:sagemaker:eu-west-1:1:training-job/d"},
                          job)
        target.aws.client("sagemaker").create_training_job(**job)

    # in the container: SageMaker put the bundle under the channel; the entry point runs it from there
    bundle = tmp_path / "input" / "data" / "code" / "3f2a.tar.gz"
    bundle.parent.mkdir(parents=True)
    with tarfile.open(bundle, "w:gz") as tar:
        body = b"print('hello')\n"
        info = tarfile.TarInfo("train.py")
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
    code = code_dir(str(bundle), SimpleNamespace(paths=Paths(tmp_path)))  # type: ignore[arg-type]
    assert code is not None and (code / "train.py").read_bytes() == body

    with pytest.raises(TargetError, match="'code' is reserved"):
        target.training_job_request(TrainingRequest("digits-9", "digits", team, "img:1", {"code": "s3://b/c/"},
                                                    source_uri=source, entry_point="train.py"))


def test_update_endpoint_and_cleanup_when_a_step_fails(planned):
    team = outputs.team("fraud-dev", planned)
    aws = _stubbed()
    target = SageMakerTarget(aws, "fraud-dev", tags=TAGS, poll_s=0)
    arn = "arn:aws:sagemaker:eu-west-1:111111111111:model-package/fraud-dev-digits/2"
    package = registry.Package(arn, "fraud-dev-digits", 2, "Approved", "i", "s3://b/m.tar.gz")
    request = DeployRequest("fraud-dev-digits-sandbox", package, team)
    in_service = {"EndpointName": "fraud-dev-digits-sandbox", "EndpointArn": "arn:aws:sagemaker:eu-west-1:1:endpoint/x",
                  "EndpointConfigName": "old", "EndpointStatus": "InService",
                  "CreationTime": "2026-01-01T00:00:00Z", "LastModifiedTime": "2026-01-01T00:00:00Z"}
    sm = aws.client("sagemaker")
    with Stubber(sm) as stub:   # an existing endpoint is updated (moto answers update_endpoint with a 500)
        stub.add_response("describe_endpoint", in_service, {"EndpointName": "fraud-dev-digits-sandbox"})
        stub.add_response("create_model", {"ModelArn": "arn:aws:sagemaker:eu-west-1:1:model/m"}, None)
        stub.add_response("create_endpoint_config", {"EndpointConfigArn": "arn:aws:sagemaker:eu-west-1:1:e/c"}, None)
        stub.add_response("update_endpoint", {"EndpointArn": in_service["EndpointArn"]},
                          {"EndpointName": "fraud-dev-digits-sandbox", "EndpointConfigName": ANY})
        stub.add_response("describe_endpoint", in_service | {"EndpointStatus": "Updating"}, None)
        stub.add_response("describe_endpoint", in_service, None)
        assert target.deploy(request).status == "InService"
        stub.assert_no_pending_responses()
    with Stubber(sm) as stub:   # the endpoint call fails: the config and model made for it are deleted
        stub.add_client_error("describe_endpoint", "ValidationException", "Could not find endpoint")
        stub.add_response("create_model", {"ModelArn": "arn:aws:sagemaker:eu-west-1:1:model/m"}, None)
        stub.add_response("create_endpoint_config", {"EndpointConfigArn": "arn:aws:sagemaker:eu-west-1:1:e/c"}, None)
        stub.add_client_error("create_endpoint", "ResourceLimitExceeded", "account limit")
        stub.add_response("delete_endpoint_config", {}, {"EndpointConfigName": ANY})
        stub.add_response("delete_model", {}, {"ModelName": ANY})
        with pytest.raises(TargetError, match="nothing left behind.*account limit"):
            target.deploy(request)
        stub.assert_no_pending_responses()


def test_invoke_fails_over_to_the_next_region():
    aws = _stubbed()
    target = SageMakerTarget(aws, "fraud-dev", tags=TAGS)
    import io

    from botocore.response import StreamingBody

    with Stubber(aws.client("sagemaker-runtime", "eu-west-1")) as first, \
            Stubber(aws.client("sagemaker-runtime", "eu-central-1")) as second:
        first.add_client_error("invoke_endpoint", "ServiceUnavailable", "down", 503)
        second.add_response("invoke_endpoint", {"Body": StreamingBody(io.BytesIO(b'{"predictions": []}'), 19)},
                            {"EndpointName": "e", "Body": b"[]", "ContentType": "application/json",
                             "Accept": "application/json"})
        assert target.invoke("e", b"[]", regions=["eu-west-1", "eu-central-1"]) == b'{"predictions": []}'
    with Stubber(aws.client("sagemaker-runtime", "eu-west-1")) as first:
        first.add_client_error("invoke_endpoint", "ValidationException", "Endpoint e not found", 400)
        with pytest.raises(TargetError, match="not found"):
            target.invoke("e", b"[]", regions=["eu-west-1"])
