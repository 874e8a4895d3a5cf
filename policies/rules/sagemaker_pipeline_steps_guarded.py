"""Every job a SageMaker pipeline starts (training and processing steps, inside condition branches too) runs in
the VPC, encrypts its volume and output with KMS and the traffic between its instances; a processing step (data
preparation, evaluation) also runs network-isolated: SageMaker moves its inputs and outputs.

A pipeline's jobs are created by SageMaker from the definition, not by the stack: the endpoint and model rules
never see them, so this rule reads the definition itself."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.rule import Rule
from policies.support import UNKNOWN, display_name, props_of
from policies.support.sagemaker import needs_volume_key

PIPELINE = "aws:sagemaker/pipeline:Pipeline"


def _steps(steps: Any) -> Iterator[dict[str, Any]]:
    for step in steps if isinstance(steps, list) else []:
        if not isinstance(step, dict):
            continue
        yield step
        if step.get("Type") == "Condition":
            arguments = step.get("Arguments") or {}
            yield from _steps(arguments.get("IfSteps"))
            yield from _steps(arguments.get("ElseSteps"))


def _vpc(vpc: Any) -> list[str]:
    if not isinstance(vpc, dict):
        return ["no VpcConfig"]
    return [f"VpcConfig without {key}" for key in ("Subnets", "SecurityGroupIds") if not vpc.get(key)]


def _instance(value: Any) -> str:
    return value if isinstance(value, str) else "ml.m5.large"   # a parameter: assume a family with a volume


def training_problems(arguments: dict[str, Any]) -> list[str]:
    problems = _vpc(arguments.get("VpcConfig"))
    if not (arguments.get("OutputDataConfig") or {}).get("KmsKeyId"):
        problems.append("no OutputDataConfig.KmsKeyId")
    resources = arguments.get("ResourceConfig") or {}
    if needs_volume_key(_instance(resources.get("InstanceType"))) and not resources.get("VolumeKmsKeyId"):
        problems.append("no ResourceConfig.VolumeKmsKeyId")
    if arguments.get("EnableInterContainerTrafficEncryption") is not True:
        problems.append("EnableInterContainerTrafficEncryption is not true")
    return problems


def processing_problems(arguments: dict[str, Any]) -> list[str]:
    network = arguments.get("NetworkConfig") or {}
    problems = _vpc(network.get("VpcConfig"))
    if arguments.get("ProcessingOutputConfig") and not arguments["ProcessingOutputConfig"].get("KmsKeyId"):
        problems.append("no ProcessingOutputConfig.KmsKeyId")
    cluster = (arguments.get("ProcessingResources") or {}).get("ClusterConfig") or {}
    if needs_volume_key(_instance(cluster.get("InstanceType"))) and not cluster.get("VolumeKmsKeyId"):
        problems.append("no ClusterConfig.VolumeKmsKeyId")
    if network.get("EnableInterContainerTrafficEncryption") is not True:
        problems.append("NetworkConfig.EnableInterContainerTrafficEncryption is not true")
    if network.get("EnableNetworkIsolation") is not True:   # the workload boundary denies it at run time otherwise
        problems.append("NetworkConfig.EnableNetworkIsolation is not true")
    return problems


CHECKS = {"Training": training_problems, "Processing": processing_problems}


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    props = props_of(args)
    text = props.get("pipelineDefinition")
    if text is UNKNOWN:
        return
    name = display_name(args, "pipelineName")
    if not isinstance(text, str):
        report_violation(f"pipeline '{name}': its definition is not inline (pipelineDefinitionS3Location), so its "
                         f"jobs cannot be checked; required: pipelineDefinition in the stack", None)
        return
    try:
        definition = json.loads(text)
    except ValueError:
        report_violation(f"pipeline '{name}': pipelineDefinition is not JSON", None)
        return
    found = []
    for step in _steps(definition.get("Steps") if isinstance(definition, dict) else None):
        check = CHECKS.get(str(step.get("Type")))
        arguments = step.get("Arguments")
        if check is not None:
            problems = check(arguments if isinstance(arguments, dict) else {})
            if problems:
                found.append(f"step {step.get('Name')!r}: {', '.join(problems)}")
    if found:
        report_violation(f"pipeline '{name}': {'; '.join(found)}; required: every training and processing step in "
                         f"the platform's subnets and SageMaker security group, with KMS keys for its output and "
                         f"volume and inter-container traffic encryption, and processing steps network-isolated",
                         None)


RULE = Rule(
    id="sagemaker-pipeline-steps-guarded",
    description="SageMaker pipeline jobs run in the VPC, KMS-encrypted, traffic encrypted, processing jobs "
                "network-isolated.",
    severity="high",
    control="NIST 800-53 SC-7, SC-8, SC-28",
    kind="resource",
    validate=validate,
    resource_types=frozenset({PIPELINE}),
    remediation="Generate the definition with platform_lib.pipeline (the CLI's own job requests), or set VpcConfig, "
                "KMS keys and EnableInterContainerTrafficEncryption in each training and processing step, and "
                "EnableNetworkIsolation in each processing step.",
)
