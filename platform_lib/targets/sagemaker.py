"""The SageMaker target: training jobs and sandbox endpoints with boto3 (the ``sagemaker`` SDK is not needed).

Training jobs run the platform image with the team's execution role, in the platform's private subnets,
KMS-encrypted volumes and output (the team's models key), managed spot with checkpoints in S3, and the
runtime's metric definitions. Endpoints outside any stack (dev sandboxes) are created and updated
directly from an *approved* model package; a failure leaves nothing behind that this call created.
Every request passes the policy pack first (``platform_lib.guard``).
"""

from __future__ import annotations

import json
import time
from typing import Any

from botocore.exceptions import ClientError, EndpointConnectionError

from platform_lib import guard, outputs, registry
from platform_lib.aws import Aws
from platform_lib.contract import PlatformOutputs, TeamOutputs
from platform_lib.targets.base import (
    Deployment,
    DeployRequest,
    Progress,
    Target,
    TargetError,
    TrainingRequest,
    TrainingResult,
    quiet,
)

POLL_S = 15.0
FAILOVER_CODES = {"ServiceUnavailable", "InternalFailure", "ThrottlingException", "ModelNotReadyException"}
TERMINAL_JOB = {"Completed", "Failed", "Stopped"}
# Jobs run with network isolation (the workload boundary denies any other), so the container cannot fetch
# the source bundle itself: like the SageMaker SDK, it comes in as an input channel of this name.
CODE_CHANNEL = "code"


def _tags(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


class SageMakerTarget(Target):
    name = "sagemaker"

    def __init__(self, aws: Aws, stack: str, platform: PlatformOutputs | None = None,
                 tags: dict[str, str] | None = None, warn: Progress = quiet, poll_s: float = POLL_S):
        self.aws, self.stack, self.platform = aws, stack, platform
        self.tags = tags if tags is not None else outputs.stack_tags(stack)
        self.warn, self.poll_s = warn, poll_s

    # ---- requests (pure: tested against botocore's service model) -------------------------------

    def vpc_config(self, team: TeamOutputs, region: str) -> dict[str, Any] | None:
        if self.platform is None:
            return None
        network = self.platform.networks.get(region)
        if network is None:
            raise TargetError(f"platform stack has no network in {region}; "
                              f"regions: {', '.join(self.platform.networks)}")
        return {"SecurityGroupIds": [network.endpoint_security_group_id], "Subnets": list(network.private_subnet_ids)}

    def training_job_request(self, request: TrainingRequest) -> dict[str, Any]:
        team = request.team
        bucket, key_arn = outputs.models_location(team)
        hyperparameters, code = request.all_hyperparameters, []
        if request.source_uri and request.entry_point:
            if CODE_CHANNEL in request.channels:
                raise TargetError(f"channel name {CODE_CHANNEL!r} is reserved for the source bundle on SageMaker "
                                  "(jobs are network-isolated); rename that channel")
            code = [{"ChannelName": CODE_CHANNEL, "InputMode": "File", "DataSource": {"S3DataSource": {
                "S3DataType": "S3Prefix", "S3Uri": request.source_uri, "S3DataDistributionType": "FullyReplicated"}}}]
            local = f"/opt/ml/input/data/{CODE_CHANNEL}/{request.source_uri.rsplit('/', 1)[-1]}"
            hyperparameters["sagemaker_submit_directory"] = json.dumps(local)
        job: dict[str, Any] = {
            "TrainingJobName": request.job_name,
            "HyperParameters": hyperparameters,
            "AlgorithmSpecification": {"TrainingImage": request.image, "TrainingInputMode": "File",
                                       "MetricDefinitions": request.metric_definitions},
            "RoleArn": team.execution_role_arn,
            "InputDataConfig": [
                {"ChannelName": name, "ContentType": "text/csv", "InputMode": "File",
                 "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri,
                                                 "S3DataDistributionType": "FullyReplicated"}}}
                for name, uri in sorted(request.channels.items())] + code,
            "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/training/{request.model}/", "KmsKeyId": key_arn},
            "ResourceConfig": {"InstanceType": request.instance_type, "InstanceCount": request.instance_count,
                               "VolumeSizeInGB": 30, "VolumeKmsKeyId": key_arn},
            "StoppingCondition": {"MaxRuntimeInSeconds": request.max_runtime_s},
            "EnableInterContainerTrafficEncryption": True,
            "EnableNetworkIsolation": True,
            "Tags": _tags(self.tags),
        }
        if request.environment:
            job["Environment"] = dict(request.environment)
        vpc = self.vpc_config(team, team.primary_region)
        if vpc:
            job["VpcConfig"] = vpc
        if request.spot:
            job["EnableManagedSpotTraining"] = True
            job["StoppingCondition"]["MaxWaitTimeInSeconds"] = request.max_runtime_s * 2
            job["CheckpointConfig"] = {"S3Uri": f"s3://{bucket}/checkpoints/{request.model}/{request.job_name}/",
                                       "LocalPath": "/opt/ml/checkpoints"}
        return job

    def _check(self, requests: list[guard.Request], team: TeamOutputs) -> None:
        guard.enforce(requests, team.environment, warn=self.warn)

    # ---- training -------------------------------------------------------------------------------

    def train(self, request: TrainingRequest, progress: Progress = quiet) -> TrainingResult:
        job = self.training_job_request(request)
        self._check([guard.Request(guard.TRAINING_JOB_TYPE, request.job_name, guard.camel_inputs(job),
                                   request.team.primary_region)], request.team)
        sm = self.aws.client("sagemaker", request.team.primary_region)
        started = time.perf_counter()
        sm.create_training_job(**job)
        progress(f"training job {request.job_name} created")
        try:
            described = self._wait_job(sm, request.job_name, progress)
        except KeyboardInterrupt:
            progress(f"stopping training job {request.job_name} (it checkpoints, then exits)")
            sm.stop_training_job(TrainingJobName=request.job_name)
            raise
        status = described["TrainingJobStatus"]
        metrics = {m["MetricName"].replace(":", "_"): float(m["Value"])
                   for m in described.get("FinalMetricDataList", [])}
        artifact = (described.get("ModelArtifacts") or {}).get("S3ModelArtifacts")
        return TrainingResult(request.job_name, self.name, status, artifact if status == "Completed" else None,
                              metrics=metrics, failure_reason=described.get("FailureReason"),
                              seconds=time.perf_counter() - started)

    def _wait_job(self, sm: Any, name: str, progress: Progress) -> dict[str, Any]:
        last = None
        while True:
            described = sm.describe_training_job(TrainingJobName=name)
            state = (described["TrainingJobStatus"], described.get("SecondaryStatus"))
            if state != last:
                progress(f"{name}: {state[0]} ({state[1]})")
                last = state
            if state[0] in TERMINAL_JOB:
                return dict(described)
            time.sleep(self.poll_s)

    # ---- endpoints ------------------------------------------------------------------------------

    def endpoint_requests(self, request: DeployRequest, suffix: str) -> tuple[dict, dict]:
        package, team = request.package, request.team
        region = team.primary_region
        _, key_arn = outputs.models_location(team, region)
        model_name = f"{request.endpoint}-v{package.version}-{suffix}"[:63]
        model: dict[str, Any] = {"ModelName": model_name, "ExecutionRoleArn": team.execution_role_arn,
                                 "Containers": [{"ModelPackageName": package.arn}],
                                 "EnableNetworkIsolation": True, "Tags": _tags(self.tags)}
        vpc = self.vpc_config(team, region)
        if vpc:
            model["VpcConfig"] = vpc
        config = {"EndpointConfigName": model_name, "KmsKeyId": key_arn, "Tags": _tags(self.tags),
                  "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": model_name,
                                          "InitialInstanceCount": request.instance_count,
                                          "InstanceType": request.instance_type, "InitialVariantWeight": 1.0}]}
        return model, config

    def _stack_owned(self, team: TeamOutputs, endpoint: str) -> bool:
        """An endpoint of the stack's serving (``endpoints``: model -> region -> name); `mlp deploy` releases
        those through the stack (``platform_lib.stack_release``), this is the library's own safety net."""
        owned: dict[str, dict[str, str]] = getattr(team, "endpoints", None) or {}
        return endpoint in {name for by_region in owned.values() for name in by_region.values()}

    def deploy(self, request: DeployRequest, progress: Progress = quiet) -> Deployment:
        package = registry.require_approved(request.package)
        team = request.team
        if self._stack_owned(team, request.endpoint):
            raise TargetError(f"endpoint {request.endpoint} belongs to stack {self.stack}: release a version to it "
                              f"with `mlp deploy --stack {self.stack} --target sagemaker` (stack file, offline "
                              f"plan, pulumi up), never directly")
        model, config = self.endpoint_requests(request, time.strftime("%Y%m%d%H%M%S"))
        region = team.primary_region
        self._check([
            guard.Request("aws:sagemaker/model:Model", model["ModelName"], guard.camel_inputs(model), region),
            guard.Request("aws:sagemaker/endpointConfiguration:EndpointConfiguration", config["EndpointConfigName"],
                          guard.camel_inputs(config), region),
            guard.Request("aws:sagemaker/endpoint:Endpoint", request.endpoint, guard.camel_inputs(
                {"Name": request.endpoint, "EndpointConfigName": config["EndpointConfigName"],
                 "Tags": _tags(self.tags)}), region),
        ], team)
        sm = self.aws.client("sagemaker", region)
        existing = self._describe(sm, request.endpoint)
        if existing is not None and existing["EndpointStatus"] not in ("InService", "Failed"):
            raise TargetError(f"endpoint {request.endpoint} is {existing['EndpointStatus']}; wait until it is "
                              f"InService before deploying another version")
        created: list[tuple[str, dict[str, str]]] = []
        try:
            sm.create_model(**model)
            created.append(("delete_model", {"ModelName": model["ModelName"]}))
            sm.create_endpoint_config(**config)
            created.append(("delete_endpoint_config", {"EndpointConfigName": config["EndpointConfigName"]}))
            if existing is None:
                sm.create_endpoint(EndpointName=request.endpoint, EndpointConfigName=config["EndpointConfigName"],
                                   Tags=_tags(self.tags))
            else:
                sm.update_endpoint(EndpointName=request.endpoint, EndpointConfigName=config["EndpointConfigName"])
        except (ClientError, EndpointConnectionError) as exc:
            for call, arguments in reversed(created):
                getattr(sm, call)(**arguments)
            raise TargetError(f"deploying {request.endpoint} failed, nothing left behind: {exc}") from None
        progress(f"endpoint {request.endpoint}: {'updating' if existing else 'creating'} with version "
                 f"{package.version}")
        described = self._wait_endpoint(sm, request.endpoint, progress)
        status = described["EndpointStatus"]
        if status != "InService":
            raise TargetError(f"endpoint {request.endpoint} is {status}: {described.get('FailureReason', '')}")
        return Deployment(request.endpoint, self.name, status, package.arn, described.get("EndpointArn"))

    def _describe(self, sm: Any, endpoint: str) -> dict[str, Any] | None:
        try:
            return dict(sm.describe_endpoint(EndpointName=endpoint))
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ValidationException":
                return None
            raise

    def _wait_endpoint(self, sm: Any, endpoint: str, progress: Progress) -> dict[str, Any]:
        last = None
        while True:
            described = sm.describe_endpoint(EndpointName=endpoint)
            if described["EndpointStatus"] != last:
                last = described["EndpointStatus"]
                progress(f"{endpoint}: {last}")
            if last not in ("Creating", "Updating", "SystemUpdating"):
                return dict(described)
            time.sleep(self.poll_s)

    def invoke(self, endpoint: str, body: bytes, content_type: str = "application/json",
               accept: str = "application/json", regions: list[str] | None = None) -> bytes:
        """Invoke in the first region that answers (the primary, then the other serving regions)."""
        tried = []
        for region in regions or [self.aws.region or ""]:
            runtime = self.aws.client("sagemaker-runtime", region)
            try:
                response = runtime.invoke_endpoint(EndpointName=endpoint, Body=body, ContentType=content_type,
                                                   Accept=accept)
                return bytes(response["Body"].read())
            except EndpointConnectionError as exc:
                tried.append(f"{region}: {exc}")
            except ClientError as exc:
                code = exc.response["Error"]["Code"]
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
                if code in FAILOVER_CODES or status >= 500:
                    tried.append(f"{region}: {code}")
                    continue
                raise TargetError(f"{endpoint} in {region}: {exc.response['Error'].get('Message', code)}") from None
        raise TargetError(f"{endpoint} answered in no region: {'; '.join(tried)}")

    def status(self, endpoint: str) -> Deployment:
        sm = self.aws.client("sagemaker")
        described = self._describe(sm, endpoint)
        if described is None:
            return Deployment(endpoint, self.name, "NotFound")
        config = sm.describe_endpoint_config(EndpointConfigName=described["EndpointConfigName"])
        model = sm.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
        containers = model.get("Containers") or [model.get("PrimaryContainer") or {}]
        return Deployment(endpoint, self.name, described["EndpointStatus"], containers[0].get("ModelPackageName"),
                          described.get("EndpointArn"), described.get("FailureReason", ""))

    def stop(self, endpoint: str) -> Deployment:
        sm = self.aws.client("sagemaker")
        if self._describe(sm, endpoint) is None:
            raise TargetError(f"no endpoint {endpoint}")
        sm.delete_endpoint(EndpointName=endpoint)
        return Deployment(endpoint, self.name, "Deleting")
