"""Checks of a generated pipeline definition, offline: what SageMaker would refuse at ``CreatePipeline`` or when
an execution reaches the step.

1. The definition's structure against ``definition.schema.json`` (written here from the documented format:
   AWS's published JSON schema carries no licence, so it is not used).
2. Each job step's ``Arguments`` against botocore's service model of the API the step calls (Training:
   ``CreateTrainingJob``, Processing: ``CreateProcessingJob``, RegisterModel: ``CreateModelPackage``), with the
   job name the pipeline assigns added and every property reference replaced by a string of the right shape.
3. References: unique step names (conditions' branches included), ``DependsOn`` and ``Get: Steps.X`` naming a
   step that exists, property files declared by the step they are read from, and the ``CreatePipeline`` request
   itself (name, role, definition size) against the service model.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources
from typing import Any

STEP_OPERATIONS = {"Training": ("CreateTrainingJob", "TrainingJobName"),
                   "Processing": ("CreateProcessingJob", "ProcessingJobName"),
                   "RegisterModel": ("CreateModelPackage", None)}
PLACEHOLDER = "s3://pipeline-property/reference"   # what a Get/Join/JsonGet resolves to at run time (a string)


def schema() -> dict[str, Any]:
    return dict(json.loads(resources.files(__package__).joinpath("definition.schema.json").read_text()))


def steps(definition: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every step, those inside conditions' branches included."""
    pending = list(definition.get("Steps", []))
    while pending:
        step = pending.pop(0)
        yield step
        if step.get("Type") == "Condition":
            arguments = step.get("Arguments", {})
            pending += [*arguments.get("IfSteps", []), *arguments.get("ElseSteps", [])]


def _resolved(value: Any) -> Any:
    """Arguments as the service receives them: property references become strings."""
    if isinstance(value, dict):
        if set(value) & {"Get", "Std:Join", "Std:JsonGet"}:
            return PLACEHOLDER
        return {k: _resolved(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolved(v) for v in value]
    return value


def _references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if isinstance(value.get("Get"), str):
            yield value["Get"]
        for item in value.values():
            yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


def problems(definition: dict[str, Any], pipeline_name: str = "pipeline", role_arn: str | None = None) -> list[str]:
    """Everything wrong with ``definition``, as text naming the step and field; empty when it is valid."""
    import botocore.session
    import jsonschema
    from botocore.validate import ParamValidator

    found = [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
             for e in jsonschema.Draft202012Validator(schema()).iter_errors(definition)]
    model = botocore.session.get_session().get_service_model("sagemaker")
    validator = ParamValidator()
    all_steps = list(steps(definition))
    names = [str(s.get("Name")) for s in all_steps]
    found += [f"step name {n!r} is used twice" for n in sorted({n for n in names if names.count(n) > 1})]
    files = {(s.get("Name"), f.get("PropertyFileName")) for s in all_steps for f in s.get("PropertyFiles", [])}
    for step in all_steps:
        name = step.get("Name")
        operation = STEP_OPERATIONS.get(step.get("Type", ""))
        if operation is not None:
            arguments = _resolved(step.get("Arguments", {}))
            if operation[1]:
                if operation[1] in arguments:
                    found.append(f"{name}: Arguments.{operation[1]} is set; the pipeline names the job")
                arguments = {**arguments, operation[1]: "pipeline-assigned"}
            report = validator.validate(arguments, model.operation_model(operation[0]).input_shape)
            if report.has_errors():
                found.append(f"{name}: {operation[0]}: {report.generate_report()}")
        for dependency in step.get("DependsOn", []):
            if dependency not in names:
                found.append(f"{name}: DependsOn names no step {dependency!r}")
        for reference in _references(step.get("Arguments", {})):
            parts = reference.split(".")
            if parts[0] == "Steps":
                if len(parts) < 3 or parts[1] not in names:
                    found.append(f"{name}: {reference!r} names no step")
                elif parts[2] == "PropertyFiles" and (parts[1], parts[3] if len(parts) > 3 else None) not in files:
                    found.append(f"{name}: {reference!r} names no property file of step {parts[1]}")
    request = {"PipelineName": pipeline_name, "PipelineDefinition": json.dumps(definition),
               "RoleArn": role_arn or "arn:aws:iam::111111111111:role/pipeline", "ClientRequestToken": "x" * 32}
    report = validator.validate(request, model.operation_model("CreatePipeline").input_shape)
    if report.has_errors():
        found.append(f"CreatePipeline: {report.generate_report()}")
    if len(request["PipelineDefinition"]) > 1_000_000:
        found.append("the definition is longer than CreatePipeline's 1,000,000 characters")
    return found
