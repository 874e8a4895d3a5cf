"""The retraining pipeline of a declared model, as a SageMaker Pipelines definition (version 2020-12-01).

Train → Evaluate → Check (the model's gates) → Register (``PendingManualApproval``) or Fail. The training
step's arguments are the CLI's own ``CreateTrainingJob`` request (``SageMakerTarget.training_job_request``)
without the job name, which the pipeline assigns; the registration's are the CLI's ``CreateModelPackage``
request (``registry.package_request``). The same ``Spec`` drives ``mlp pipeline run --target local``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, cast

from platform_lib import outputs, registry
from platform_lib.aws import Aws
from platform_lib.config.schema.models import Gate, ModelDeclaration, Retraining
from platform_lib.contract import PlatformOutputs, TeamOutputs
from platform_lib.targets.base import TrainingRequest
from platform_lib.targets.sagemaker import SageMakerTarget

VERSION = "2020-12-01"
CHANNELS = ("train", "validation")
EVALUATION_FILE = "evaluation.json"
EVALUATION_ENTRYPOINT = ["python", "-m", "training.evaluation"]
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
    def evaluation_uri(self) -> str:
        bucket, _ = outputs.models_location(self.team)
        return f"s3://{bucket}/evaluation/{self.model.name}/"

    @property
    def gates(self) -> list[Gate]:
        return list(self.model.gates)


def pipeline_name(team: str, environment: str, model: str) -> str:
    return f"{team}-{environment}-{model}-retrain"


def training_request(spec: Spec, job_name: str) -> TrainingRequest:
    """The training job of the pipeline: the same request ``mlp train`` sends, on the model's data."""
    retraining = spec.retraining
    return TrainingRequest(job_name, spec.model.name, spec.team, spec.image_uri,
                           {channel: f"{spec.data_uri}{channel}/" for channel in CHANNELS},
                           dict(retraining.hyperparameters), instance_type=retraining.instance_type,
                           max_runtime_s=retraining.max_runtime_minutes * 60,
                           metric_names=tuple(sorted({g.metric for g in spec.gates})))


def _requests(spec: Spec) -> SageMakerTarget:
    # Only the request builders are used: no client is created, so no session is needed.
    return SageMakerTarget(cast(Aws, None), spec.name, platform=spec.platform, tags=spec.tags)


def training_step(spec: Spec) -> dict[str, Any]:
    arguments = _requests(spec).training_job_request(training_request(spec, "pipeline"))
    del arguments["TrainingJobName"]   # the pipeline names each execution's job
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
            "S3Uri": {"Std:Join": {"On": "", "Values": [spec.evaluation_uri, {"Get": "Execution.PipelineExecutionId"},
                                                         "/"]}},
            "LocalPath": f"{PROCESSING}/evaluation", "S3UploadMode": "EndOfJob"}}]},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        "NetworkConfig": {"EnableInterContainerTrafficEncryption": True, "EnableNetworkIsolation": True},
    }
    vpc = _requests(spec).vpc_config(team, team.primary_region)
    if vpc:
        arguments["NetworkConfig"]["VpcConfig"] = vpc
    if spec.tags:
        arguments["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(spec.tags.items())]
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
    """The pipeline definition (a JSON-ready dict): train, evaluate, check the gates, register or fail."""
    check = {"Name": "CheckGates", "Type": "Condition", "DependsOn": ["Evaluate"], "Arguments": {
        "Conditions": [condition(g) for g in spec.gates],
        "IfSteps": [register_step(spec)], "ElseSteps": [fail_step(spec)]}}
    return {"Version": VERSION, "Metadata": {}, "Parameters": [],
            "Steps": [training_step(spec), evaluation_step(spec), check]}


def definition_json(spec: Spec) -> str:
    return json.dumps(definition(spec), sort_keys=True, separators=(",", ":"))
