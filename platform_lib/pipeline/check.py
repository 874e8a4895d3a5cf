"""Checks of a generated pipeline definition, offline: what SageMaker would refuse at ``CreatePipeline`` or when
an execution reaches the step.

1. The definition's structure against ``definition.schema.json`` (written here from the documented format:
   AWS's published JSON schema carries no licence, so it is not part of the project; see ``published_problems``).
2. Each job step's ``Arguments`` against botocore's service model of the API the step calls (Training:
   ``CreateTrainingJob``, Processing: ``CreateProcessingJob``, RegisterModel: ``CreateModelPackage``), with the
   job name the pipeline assigns added and every property reference replaced by a string of the right shape.
   botocore's validator checks types, required members and minimums; the maximums of the model (e.g. 100
   container arguments of 256 characters each) are checked here.
3. References: unique step names (conditions' branches included), ``DependsOn`` and ``Get: Steps.X`` naming a
   step that exists, property files declared by the step they are read from, processing outputs
   (``Outputs['name']``) that the step writes, and the ``CreatePipeline`` request itself (name, role, definition
   size) against the service model.

``published_problems`` validates a definition against AWS's published JSON schema of pipeline definitions, given
as a file (it is not part of this project: see docs/promotion.md), with the places where that schema is older
than the service (``PUBLISHED_SCHEMA_GAPS``) widened.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
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


def over_limits(value: Any, shape: Any, path: str = "") -> Iterator[str]:
    """Where ``value`` exceeds the ``max`` of its botocore shape (lengths of strings and lists, entries of maps)."""
    limit = shape.metadata.get("max")
    if shape.type_name == "structure" and isinstance(value, dict):
        for key, item in value.items():
            if key in shape.members:
                yield from over_limits(item, shape.members[key], f"{path}.{key}" if path else key)
    elif shape.type_name == "list" and isinstance(value, list):
        if limit is not None and len(value) > limit:
            yield f"{path} has {len(value)} items; at most {limit:g}"
        for index, item in enumerate(value):
            yield from over_limits(item, shape.member, f"{path}[{index}]")
    elif shape.type_name == "map" and isinstance(value, dict):
        if limit is not None and len(value) > limit:
            yield f"{path} has {len(value)} entries; at most {limit:g}"
        for key, item in value.items():
            yield from over_limits(item, shape.value, f"{path}.{key}")
    elif shape.type_name == "string" and isinstance(value, str) and limit is not None and len(value) > limit:
        yield f"{path} has {len(value)} characters; at most {limit:g}"


OUTPUT_REFERENCE = re.compile(r"^ProcessingOutputConfig\.Outputs\['([^']+)'\]")


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
    written = {(s.get("Name"), o.get("OutputName")) for s in all_steps if s.get("Type") == "Processing"
               for o in (s.get("Arguments", {}).get("ProcessingOutputConfig") or {}).get("Outputs", [])}
    for step in all_steps:
        name = step.get("Name")
        operation = STEP_OPERATIONS.get(step.get("Type", ""))
        if operation is not None:
            arguments = _resolved(step.get("Arguments", {}))
            if operation[1]:
                if operation[1] in arguments:
                    found.append(f"{name}: Arguments.{operation[1]} is set; the pipeline names the job")
                arguments = {**arguments, operation[1]: "pipeline-assigned"}
            shape = model.operation_model(operation[0]).input_shape
            report = validator.validate(arguments, shape)
            if report.has_errors():
                found.append(f"{name}: {operation[0]}: {report.generate_report()}")
            found += [f"{name}: {operation[0]}: {limit}" for limit in over_limits(arguments, shape)]
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
                elif (output := OUTPUT_REFERENCE.match(".".join(parts[2:]))) and \
                        (parts[1], output.group(1)) not in written:
                    found.append(f"{name}: {reference!r} names no output of step {parts[1]}")
    request = {"PipelineName": pipeline_name, "PipelineDefinition": json.dumps(definition),
               "RoleArn": role_arn or "arn:aws:iam::111111111111:role/pipeline", "ClientRequestToken": "x" * 32}
    report = validator.validate(request, model.operation_model("CreatePipeline").input_shape)
    if report.has_errors():
        found.append(f"CreatePipeline: {report.generate_report()}")
    if len(request["PipelineDefinition"]) > 1_000_000:
        found.append("the definition is longer than CreatePipeline's 1,000,000 characters")
    return found


# ---- AWS's published schema ----------------------------------------------------------------------------------------
# Where the published schema (aws-sagemaker-mlops/sagemaker-model-building-pipeline-definition-JSON-schema) is older
# than the service: what SageMaker accepts (and the SageMaker Python SDK emits) that the schema refuses. Each gap:
# (name, why it is not a defect of the definition, the definitions it widens). ``published_problems`` widens them
# in memory (the tests check that each gap is still refused by the schema as published).
_JOIN = {"type": "object", "required": ["Std:Join"], "additionalProperties": False, "properties": {"Std:Join": {
    "type": "object", "required": ["On", "Values"], "additionalProperties": False, "properties": {
        "On": {"type": "string"}, "Values": {"type": "array", "items": {"anyOf": [
            {"type": ["string", "number", "boolean"]}, {"$ref": "#/definitions/GetFunction"}]}}}}}}
_JSON_GET = {"type": "object", "required": ["Std:JsonGet"], "additionalProperties": False, "properties": {
    "Std:JsonGet": {"type": "object", "required": ["PropertyFile", "Path"], "additionalProperties": False,
                    "properties": {"PropertyFile": {"$ref": "#/definitions/GetFunction"}, "Path": {"type": "string"}}}}}
_PROPERTY_FILES = {"type": "array", "items": {
    "type": "object", "required": ["PropertyFileName", "OutputName", "FilePath"], "additionalProperties": False,
    "properties": {"PropertyFileName": {"type": "string"}, "OutputName": {"type": "string"},
                   "FilePath": {"type": "string"}}}}
ARGUMENT_VALUES = ("StringArgumentValue", "IntegerArgumentValue", "FloatArgumentValue", "BooleanArgumentValue")
PUBLISHED_SCHEMA_GAPS = (
    ("functions", "a value may be Std:Join or Std:JsonGet, not only a literal or Get: the SDK's Join and JsonGet "
                  "emit them (its JoinFunction is defined but referenced nowhere, and has no 'On')",
     ARGUMENT_VALUES),
    ("property files", "a Processing step declares PropertyFiles, which Std:JsonGet reads (the SDK's PropertyFile)",
     ("ProcessingStep",)),
    ("approval status", "RegisterModel passes CreateModelPackage's ModelApprovalStatus (botocore: "
                        "CreateModelPackageInput.ModelApprovalStatus; the SDK's approval_status)",
     ("RegisterModelStep",)),
    ("container environment", "a registered container has CreateModelPackage's Environment (botocore: "
                              "ModelPackageContainerDefinition.Environment)",
     ("RegisterModelStep",)),
)


def widened(published: dict[str, Any]) -> dict[str, Any]:
    """The published schema with ``PUBLISHED_SCHEMA_GAPS`` widened (a copy); a clear error if it changed shape."""
    import copy

    schema = copy.deepcopy(published)
    try:
        definitions = schema["definitions"]
        definitions["MlpJoin"], definitions["MlpJsonGet"] = _JOIN, _JSON_GET
        for name in ARGUMENT_VALUES:
            definitions[name]["oneOf"] += [{"$ref": "#/definitions/MlpJoin"}, {"$ref": "#/definitions/MlpJsonGet"}]
        definitions["ProcessingStep"]["properties"]["PropertyFiles"] = _PROPERTY_FILES
        register = definitions["RegisterModelStep"]["properties"]["Arguments"]["properties"]
        register["ModelApprovalStatus"] = {"enum": ["Approved", "Rejected", "PendingManualApproval"]}
        container = register["InferenceSpecification"]["properties"]["Containers"]["items"]
        container["properties"]["Environment"] = {"type": "object", "additionalProperties": {"type": "string"}}
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"the published schema no longer has the shape PUBLISHED_SCHEMA_GAPS widens ({exc}): "
                         f"check whether its gaps are closed and update platform_lib/pipeline/check.py") from None
    return schema


def _leaves(errors: Any) -> Iterator[Any]:
    for error in errors:
        if error.context:
            yield from _leaves(error.context)
        else:
            yield error


def published_errors(definition: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """Every leaf error of ``definition`` against ``schema`` (Draft 7, as the published schema is written)."""
    import jsonschema

    return sorted({f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}"
                   for e in _leaves(jsonschema.Draft7Validator(schema).iter_errors(definition))})


def published_problems(definition: dict[str, Any], schema_file: str | Path) -> list[str]:
    """What AWS's published schema (a local copy of it) refuses in ``definition`` beyond its known gaps."""
    return published_errors(definition, widened(json.loads(Path(schema_file).read_text())))
