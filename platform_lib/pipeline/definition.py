"""The retraining pipeline of a declared model, as a SageMaker Pipelines definition (version 2020-12-01).

Prepare (the training set) → Train → Evaluate → Check (the model's gates) → Register (``PendingManualApproval``)
or Fail. Prepare is a processing job (``python -m platform_lib.pipeline.prepare``) writing each channel to the
execution's own prefix: a snapshot of the channel's files, or the point-in-time training set of the model's
feature group for the label events there. The training step's arguments are the CLI's own ``CreateTrainingJob``
request (``SageMakerTarget.training_job_request``) without the job name, which the pipeline assigns, and with
Prepare's outputs as channels; the registration's are the CLI's ``CreateModelPackage`` request
(``registry.package_request``). The same ``Spec`` drives ``mlp pipeline run --target local``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, cast

from platform_lib import outputs, registry
from platform_lib.aws import Aws
from platform_lib.config.schema.features import FeatureGroup
from platform_lib.config.schema.models import Gate, ModelDeclaration, Retraining
from platform_lib.contract import PlatformOutputs, TeamOutputs
from platform_lib.targets.base import TrainingRequest
from platform_lib.targets.sagemaker import SageMakerTarget

VERSION = "2020-12-01"
CHANNELS = ("train", "validation")
EVALUATION_FILE = "evaluation.json"
EVALUATION_ENTRYPOINT = ["python", "-m", "training.evaluation"]
PREPARE_ENTRYPOINT = ["python", "-m", "platform_lib.pipeline.prepare"]
OFFLINE_STORE_PREFIX = "offline-store"   # the features bucket's (infra/components/feature_store.py)
MAX_CONTAINER_ARGUMENTS = 100   # CreateProcessingJob's AppSpecification.ContainerArguments (botocore)
EXECUTION_ID = {"Get": "Execution.PipelineExecutionId"}
PROCESSING = "/opt/ml/processing"
CONDITIONS = {">=": "GreaterThanOrEqualTo", ">": "GreaterThan", "<=": "LessThanOrEqualTo", "<": "LessThan"}
MODEL_ARTIFACT = {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}


class PipelineError(Exception):
    """A model without retraining, or a stack without what the pipeline needs; the message says which."""


@dataclass(frozen=True)
class Spec:
    """Everything a retraining pipeline is built from: the team's outputs and the model's declaration."""

    team: TeamOutputs
    model: ModelDeclaration
    platform: PlatformOutputs | None = None       # its network puts the jobs in the VPC
    tags: dict[str, str] = field(default_factory=dict)
    feature_group: FeatureGroup | None = None     # the declaration of ``retraining.featureGroup``, when it names one

    @property
    def retraining(self) -> Retraining:
        if self.model.retraining is None:
            raise PipelineError(f"model {self.model.name!r} declares no retraining (modelRegistry.models[]."
                                f"retraining)")
        return self.model.retraining

    @property
    def name(self) -> str:
        """``<team>-<env>-<model>-retrain``, as the team stack names the pipeline."""
        return pipeline_name(self.team.team, self.team.environment, self.model.name)

    @property
    def image_uri(self) -> str:
        return self._ecr(self.retraining.image)

    @property
    def serving_image_uri(self) -> str:
        return self._ecr(self.retraining.serving_image)

    def _ecr(self, path: str) -> str:
        """The platform registry's URI of an image path in the primary region (as the endpoints pull theirs)."""
        return f"{self.team.account_id}.dkr.ecr.{self.team.primary_region}.amazonaws.com/{path}"

    @property
    def data_uri(self) -> str:
        bucket, _ = outputs.data_location(self.team, "curated")
        return f"s3://{bucket}/{self.retraining.data_prefix or f'training/{self.model.name}/'}"

    @property
    def prepared_uri(self) -> str:
        """Where Prepare writes the channels, under the execution's id (``<this><id>/<channel>/``)."""
        bucket, _ = outputs.data_location(self.team, "curated")
        return f"s3://{bucket}/pipelines/{self.model.name}/"

    @property
    def features(self) -> FeatureGroup | None:
        """The feature group whose training set Prepare builds; None: the channels' files as they are."""
        wanted = self.retraining.feature_group
        if wanted is None:
            return None
        if self.feature_group is None or self.feature_group.name != wanted:
            raise PipelineError(f"model {self.model.name!r} trains on feature group {wanted!r}: give its declaration "
                                f"(ml-platform:features.groups)")
        return self.feature_group

    @property
    def offline_store(self) -> tuple[str, str]:
        """(S3 prefix of the feature group's offline data, its FeatureGroupName). SageMaker writes under
        ``<S3Uri>/<account>/sagemaker/<region>/offline-store/<FeatureGroupName>-<creation time>/data``."""
        group = self.features
        assert group is not None
        name = self.team.feature_groups.get(group.name)
        if name is None or "features" not in self.team.buckets:
            raise PipelineError(f"the outputs of {self.team.team}-{self.team.environment} have no feature group "
                                f"{group.name!r} or features bucket: run pulumi up after declaring it")
        return (f"s3://{self.team.buckets['features']}/{OFFLINE_STORE_PREFIX}/{self.team.account_id}/sagemaker/"
                f"{self.team.primary_region}/offline-store/{name}-", name)

    @property
    def evaluation_uri(self) -> str:
        bucket, _ = outputs.models_location(self.team)
        return f"s3://{bucket}/evaluation/{self.model.name}/"

    @property
    def gates(self) -> list[Gate]:
        return list(self.model.gates)


def pipeline_name(team: str, environment: str, model: str) -> str:
    return f"{team}-{environment}-{model}-retrain"


def prepared(channel: str) -> dict[str, str]:
    """The S3 prefix Prepare wrote ``channel`` to, as a property reference."""
    return {"Get": f"Steps.Prepare.ProcessingOutputConfig.Outputs['{channel}'].S3Output.S3Uri"}


def training_request(spec: Spec, job_name: str, channels: dict[str, str]) -> TrainingRequest:
    """The training job of the pipeline: the same request ``mlp train`` sends, on the prepared ``channels``."""
    retraining = spec.retraining
    return TrainingRequest(job_name, spec.model.name, spec.team, spec.image_uri, channels,
                           dict(retraining.hyperparameters), instance_type=retraining.instance_type,
                           max_runtime_s=retraining.max_runtime_minutes * 60,
                           metric_names=tuple(sorted({g.metric for g in spec.gates})))


def _requests(spec: Spec) -> SageMakerTarget:
    # Only the request builders are used: no client is created, so no session is needed.
    return SageMakerTarget(cast(Aws, None), spec.name, platform=spec.platform, tags=spec.tags)


def _network(spec: Spec) -> dict[str, Any]:
    network: dict[str, Any] = {"EnableInterContainerTrafficEncryption": True, "EnableNetworkIsolation": True}
    vpc = _requests(spec).vpc_config(spec.team, spec.team.primary_region)
    if vpc:
        network["VpcConfig"] = vpc
    return network


def _tags(spec: Spec) -> dict[str, Any]:
    return {"Tags": [{"Key": k, "Value": v} for k, v in sorted(spec.tags.items())]} if spec.tags else {}


def prepare_arguments(spec: Spec) -> list[str]:
    """``python -m platform_lib.pipeline.prepare``'s arguments: the channels, and the feature group's declaration."""
    from platform_lib.pipeline.prepare import feature_arguments

    arguments = [f"--channel={channel}" for channel in CHANNELS]
    group = spec.features
    if group is not None:
        arguments += [*feature_arguments(group), f"--offline-store-name={spec.offline_store[1]}"]
        if len(arguments) > MAX_CONTAINER_ARGUMENTS:
            raise PipelineError(f"feature group {group.name!r} has {len(group.features)} features: the Prepare step "
                                f"takes one argument each, and CreateProcessingJob at most {MAX_CONTAINER_ARGUMENTS} "
                                f"({len(arguments)} here); train {spec.model.name!r} on a smaller group")
    return arguments


def prepare_step(spec: Spec) -> dict[str, Any]:
    """The processing job that writes each channel's training data to the execution's prefix in the curated tier:
    in the VPC, network-isolated (its inputs and outputs are moved by SageMaker), under the data key."""
    team, retraining = spec.team, spec.retraining
    _, key_arn = outputs.data_location(team, "curated")
    inputs = [{"InputName": channel, "S3Input": {
        "S3Uri": f"{spec.data_uri}{channel}/", "LocalPath": f"{PROCESSING}/input/{channel}", "S3DataType": "S3Prefix",
        "S3InputMode": "File", "S3DataDistributionType": "FullyReplicated"}} for channel in CHANNELS]
    if spec.features is not None:
        from platform_lib.pipeline.prepare import OFFLINE_INPUT

        inputs.append({"InputName": OFFLINE_INPUT, "S3Input": {
            "S3Uri": spec.offline_store[0], "LocalPath": f"{PROCESSING}/input/{OFFLINE_INPUT}",
            "S3DataType": "S3Prefix", "S3InputMode": "File", "S3DataDistributionType": "FullyReplicated"}})
    arguments: dict[str, Any] = {
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": retraining.instance_type,
                                                  "VolumeSizeInGB": 30, "VolumeKmsKeyId": key_arn}},
        "AppSpecification": {"ImageUri": spec.image_uri, "ContainerEntrypoint": PREPARE_ENTRYPOINT,
                             "ContainerArguments": prepare_arguments(spec)},
        "RoleArn": team.execution_role_arn,
        "ProcessingInputs": inputs,
        "ProcessingOutputConfig": {"KmsKeyId": key_arn, "Outputs": [{"OutputName": channel, "S3Output": {
            "S3Uri": {"Std:Join": {"On": "", "Values": [spec.prepared_uri, EXECUTION_ID, f"/{channel}/"]}},
            "LocalPath": f"{PROCESSING}/output/{channel}", "S3UploadMode": "EndOfJob"}} for channel in CHANNELS]},
        "StoppingCondition": {"MaxRuntimeInSeconds": retraining.max_runtime_minutes * 60},
        "NetworkConfig": _network(spec),
        **_tags(spec),
    }
    return {"Name": "Prepare", "Type": "Processing", "Arguments": arguments}


def training_step(spec: Spec) -> dict[str, Any]:
    arguments = _requests(spec).training_job_request(
        training_request(spec, "pipeline", {channel: f"{spec.prepared_uri}{channel}/" for channel in CHANNELS}))
    del arguments["TrainingJobName"]   # the pipeline names each execution's job
    # Its code is in the image (no source bundle to fetch from S3): isolated, as the workload boundary wants.
    arguments["EnableNetworkIsolation"] = True
    for channel in arguments["InputDataConfig"]:   # Prepare's outputs, by reference (it runs first)
        channel["DataSource"]["S3DataSource"]["S3Uri"] = prepared(channel["ChannelName"])
    return {"Name": "Train", "Type": "Training", "Arguments": arguments}


def evaluation_step(spec: Spec) -> dict[str, Any]:
    team, retraining = spec.team, spec.retraining
    _, key_arn = outputs.models_location(team)
    arguments: dict[str, Any] = {
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": retraining.instance_type,
                                                  "VolumeSizeInGB": 30, "VolumeKmsKeyId": key_arn}},
        "AppSpecification": {"ImageUri": spec.image_uri, "ContainerEntrypoint": EVALUATION_ENTRYPOINT},
        "RoleArn": team.execution_role_arn,
        "ProcessingInputs": [{"InputName": "model", "S3Input": {
            "S3Uri": MODEL_ARTIFACT, "LocalPath": f"{PROCESSING}/model", "S3DataType": "S3Prefix",
            "S3InputMode": "File", "S3DataDistributionType": "FullyReplicated"}}],
        "ProcessingOutputConfig": {"KmsKeyId": key_arn, "Outputs": [{"OutputName": "evaluation", "S3Output": {
            "S3Uri": {"Std:Join": {"On": "", "Values": [spec.evaluation_uri, EXECUTION_ID, "/"]}},
            "LocalPath": f"{PROCESSING}/evaluation", "S3UploadMode": "EndOfJob"}}]},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        "NetworkConfig": _network(spec),
        **_tags(spec),
    }
    return {"Name": "Evaluate", "Type": "Processing", "Arguments": arguments, "DependsOn": ["Train"],
            "PropertyFiles": [{"PropertyFileName": "Evaluation", "OutputName": "evaluation",
                               "FilePath": EVALUATION_FILE}]}


def metric_path(metric: str) -> str:
    return f"metrics.{metric}.value"


def condition(gate: Gate) -> dict[str, Any]:
    return {"Type": CONDITIONS[gate.comparison],
            "LeftValue": {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.Evaluation"},
                                          "Path": metric_path(gate.metric)}},
            "RightValue": gate.threshold}


def register_step(spec: Spec) -> dict[str, Any]:
    group = outputs.package_group(spec.team, spec.model.name)
    arguments = registry.package_request(
        group, image=spec.serving_image_uri, model_data_url=MODEL_ARTIFACT,
        description=f"retrained by pipeline {spec.name}; gates: {', '.join(map(str, spec.gates))}")
    arguments["ModelMetrics"] = {"ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": {
        "Std:Join": {"On": "", "Values": [spec.evaluation_uri, {"Get": "Execution.PipelineExecutionId"},
                                          f"/{EVALUATION_FILE}"]}}}}}
    return {"Name": "Register", "Type": "RegisterModel", "Arguments": arguments}


def fail_step(spec: Spec) -> dict[str, Any]:
    return {"Name": "BelowGates", "Type": "Fail", "Arguments": {
        "ErrorMessage": f"the retrained {spec.model.name} misses a gate ({'; '.join(map(str, spec.gates))}): "
                        f"not registered"}}


def definition(spec: Spec) -> dict[str, Any]:
    """The pipeline definition (a JSON-ready dict): prepare, train, evaluate, check the gates, register or fail."""
    check = {"Name": "CheckGates", "Type": "Condition", "DependsOn": ["Evaluate"], "Arguments": {
        "Conditions": [condition(g) for g in spec.gates],
        "IfSteps": [register_step(spec)], "ElseSteps": [fail_step(spec)]}}
    return {"Version": VERSION, "Metadata": {}, "Parameters": [],
            "Steps": [prepare_step(spec), training_step(spec), evaluation_step(spec), check]}


def definition_json(spec: Spec) -> str:
    return json.dumps(definition(spec), sort_keys=True, separators=(",", ":"))
