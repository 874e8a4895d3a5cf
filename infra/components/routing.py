"""`ModelRoute`: one stable HTTPS hostname per served model, routed to the nearest healthy region.

Per serving region, a front door: an API Gateway REST API (regional) with IAM-authorised `POST /invocations`
(callers sign with SigV4, as they do for SageMaker itself); a custom domain with an ACM certificate
validated by DNS in the team's hosted zone and the TLS 1.2 policy; access logs in a log group under the
platform's logs key; and `GET /ping`, unauthenticated, which answers
`{"status": "InService", "region": "<region>"}` when the model behind the door is in service.

Doors differ only in their backend (the two integrations):
- `SageMakerBackend`: `/invocations` calls SageMaker runtime `InvokeEndpoint` on the region's endpoint
  through a role that may do only that; `/ping` answers from SageMaker's `DescribeEndpoint`.
- `ServiceBackend` (a model served on Kubernetes): both are proxied through an API Gateway VPC link (V2)
  to the region's internal NLB (`infra/components/service_door.py`) whose targets are the Service's pods;
  `/ping` is the serving container's own `/ping` (200 once the model is loaded), so health is the pods'.
A SigV4 signature is scoped to one region, so callers sign for the region `/ping` names (the
library's `FrontDoorClient` does, and re-signs once if a failover moved them).

Route 53 answers the hostname with a latency record per region, each tied to a calculated health check
that is healthy only while both of its children are: an HTTPS check of `/ping` on the region's
execute-api address (the door answers and SageMaker says the endpoint is in service), and a check of a
CloudWatch alarm on the share of the door's answers that are 5xx (real traffic is failing). A private
SageMaker endpoint or an internal NLB cannot be probed from the internet, so the door's `/ping` stands in.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra import documents
from infra.naming import Names

STAGE = "live"
PING_INTERVAL_SECONDS = 30      # Route 53's standard interval
PING_FAILURES = 3               # consecutive failures before a checker calls the region unhealthy
ALARM_PERIOD = 60               # seconds; standard resolution and statistic (Route 53 takes no other)
ALARM_PERIODS = 2
ACCESS_LOG_FORMAT = json.dumps({
    "requestId": "$context.requestId", "ip": "$context.identity.sourceIp", "caller": "$context.identity.caller",
    "user": "$context.identity.userArn", "time": "$context.requestTime", "method": "$context.httpMethod",
    "path": "$context.resourcePath", "status": "$context.status", "length": "$context.responseLength",
    "latencyMs": "$context.responseLatency", "integrationStatus": "$context.integration.status",
    "integrationError": "$context.integration.error",
}, separators=(",", ":"))
# SageMaker's answers mapped to the caller's: its 4xx stay client errors, its 5xx (and throttling) are 5xx.
RESPONSES = {"200": None, "400": r"4\d{2}", "503": r"5\d{2}"}   # status codes of the backend
ROUTES = "invocations:POST:AWS_IAM,ping:GET:NONE;v1"   # change it when the routes change: the stage redeploys
INTEGRATION_TIMEOUT_MS = 29000
PING_TIMEOUT_MS = 5000


def ping_template(region: str, status: str = "$input.path('$.EndpointStatus')") -> str:
    """`/ping`'s answer: the backend's status and the door's region, which IAM callers sign for (SigV4
    scopes a signature to one region, and the hostname may answer from any)."""
    return "{\"status\": \"" + status + "\", \"region\": \"" + region + "\"}"


def hostname(model: str, team: str, environment: str, zone: str) -> str:
    """`scorer.fraud.ml.example.com` in prod, `scorer.fraud-dev.ml.example.com` elsewhere."""
    label = team if environment == "prod" else f"{team}-{environment}"
    return f"{model}.{label}.{zone}"


@dataclass(frozen=True)
class SageMakerBackend:
    """A SageMaker endpoint: API Gateway calls its runtime with a role that may only invoke and describe it."""

    endpoint_name: pulumi.Input[str]
    ping_status = "$input.path('$.EndpointStatus')"   # DescribeEndpoint's status: InService, Updating ...
    proxy = False                                       # answers are mapped (SageMaker's errors to the caller's)

    @property
    def key(self) -> pulumi.Input[str]:
        return self.endpoint_name

    def integration(self, door: FrontDoor, region: str, path: str) -> dict[str, Any]:
        assert door.role is not None, "prepare() made the role"
        if path == "ping":
            return {"type": "AWS", "integration_http_method": "POST",
                    "uri": f"arn:aws:apigateway:{region}:api.sagemaker:action/DescribeEndpoint",
                    "credentials": door.role.arn, "passthrough_behavior": "NEVER",
                    "request_templates": {"application/json": pulumi.Output.json_dumps(
                        {"EndpointName": self.endpoint_name})}}
        return {"type": "AWS", "integration_http_method": "POST",
                "uri": pulumi.Output.concat(f"arn:aws:apigateway:{region}:runtime.sagemaker:path/endpoints/",
                                            self.endpoint_name, "/invocations"),
                "credentials": door.role.arn, "passthrough_behavior": "WHEN_NO_MATCH",
                "timeout_milliseconds": INTEGRATION_TIMEOUT_MS, "request_parameters": {
                    "integration.request.header.Content-Type": "method.request.header.Content-Type",
                    "integration.request.header.Accept": "method.request.header.Accept"}}

    def prepare(self, door: FrontDoor, args: ModelRouteArgs, region: str, child: pulumi.ResourceOptions) -> None:
        names, model = args.names, args.model
        role_name = names.resource(f"{model}-api", region)
        door.role = aws.iam.Role(
            role_name, name=role_name, description=f"API Gateway calls SageMaker for {model} in {region}",
            assume_role_policy=pulumi.Output.json_dumps(documents.assume_role("apigateway.amazonaws.com",
                                                                              names.account_id)),
            permissions_boundary=args.permissions_boundary, opts=child)
        endpoint_arn = pulumi.Output.concat(f"arn:aws:sagemaker:{region}:{names.account_id}:endpoint/",
                                            self.endpoint_name)
        aws.iam.RolePolicy(
            f"{role_name}-policy", role=door.role.id, opts=child,
            policy=pulumi.Output.json_dumps(endpoint_arn.apply(lambda arn: documents.document(
                documents.allow(["sagemaker:InvokeEndpoint", "sagemaker:DescribeEndpoint"], arn, sid="OneEndpoint")))))


@dataclass(frozen=True)
class ServiceBackend:
    """A Kubernetes Service behind an internal NLB, reached through an API Gateway VPC link (V2): the
    requests go to the pods as they are (`HTTP_PROXY`), `/ping` is the pods' own."""

    vpc_link_id: pulumi.Input[str]
    load_balancer_arn: pulumi.Input[str]
    load_balancer_dns: pulumi.Input[str]      # the Host header API Gateway sends
    ping_status = "InService"                   # a pod answered `/ping` 200: its model is loaded
    proxy = True

    @property
    def key(self) -> pulumi.Input[str]:
        return self.load_balancer_arn

    def integration(self, door: FrontDoor, region: str, path: str) -> dict[str, Any]:
        through_link = {"connection_type": "VPC_LINK", "connection_id": self.vpc_link_id,
                        "integration_target": self.load_balancer_arn,
                        "uri": pulumi.Output.concat("http://", self.load_balancer_dns, f"/{path}")}
        if path == "ping":
            # no request template: the checkers' bodiless GET passes through (NEVER would answer 415)
            return {"type": "HTTP", "integration_http_method": "GET", "passthrough_behavior": "WHEN_NO_MATCH",
                    "timeout_milliseconds": PING_TIMEOUT_MS, **through_link}
        return {"type": "HTTP_PROXY", "integration_http_method": "POST",
                "timeout_milliseconds": INTEGRATION_TIMEOUT_MS, **through_link}

    def prepare(self, door: FrontDoor, args: ModelRouteArgs, region: str, child: pulumi.ResourceOptions) -> None:
        """Nothing to prepare: a VPC link needs no role."""


@dataclass(frozen=True)
class RegionalDoor:
    """What the front door of one region needs."""

    backend: SageMakerBackend | ServiceBackend
    logs_key_arn: pulumi.Input[str]
    provider: aws.Provider
    alarm_topic_arn: pulumi.Input[str] | None = None     # the team's alerts topic of the region


@dataclass(frozen=True)
class ModelRouteArgs:
    names: Names
    model: str
    hostname: str
    zone_id: str
    doors: Mapping[str, RegionalDoor]     # serving region -> its door's inputs
    permissions_boundary: pulumi.Input[str]
    log_retention_days: int
    error_alarm_percent: int = 1


class FrontDoor(pulumi.ComponentResource):
    """The regional REST API, its custom domain and certificate, access logs, and the 5xx alarm; only the
    backend's two integrations (and, for SageMaker, its role) differ between SageMaker and Kubernetes."""

    def __init__(self, name: str, args: ModelRouteArgs, region: str, validation_fqdn: pulumi.Input[str] | None,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("ml-platform:serving:FrontDoor", name, None, opts)
        names, model, door = args.names, args.model, args.doors[region]
        child = pulumi.ResourceOptions(parent=self, provider=door.provider)
        api_name = names.resource(f"{model}-api", region)
        self.certificate = aws.acm.Certificate(
            names.resource(f"{model}-certificate", region), domain_name=args.hostname, validation_method="DNS",
            options=aws.acm.CertificateOptionsArgs(certificate_transparency_logging_preference="ENABLED"),
            opts=child)
        # ACM gives the same validation record for a name in every region of an account: the first region's
        # certificate creates it (ModelRoute), each region waits on it.
        record = self.certificate.domain_validation_options.apply(lambda options: options[0])
        self.validation_record = aws.route53.Record(
            names.resource(f"{model}-certificate-validation"), zone_id=args.zone_id, ttl=300,
            name=record.apply(lambda o: o.resource_record_name or ""),
            type=record.apply(lambda o: o.resource_record_type or "CNAME"),
            records=[record.apply(lambda o: o.resource_record_value or "")],
            opts=pulumi.ResourceOptions(parent=self, provider=door.provider),
        ) if validation_fqdn is None else None
        fqdn: pulumi.Input[str] = self.validation_record.fqdn if self.validation_record else validation_fqdn or ""
        self.validation = aws.acm.CertificateValidation(
            names.resource(f"{model}-certificate-issued", region), certificate_arn=self.certificate.arn,
            validation_record_fqdns=[fqdn], opts=child)

        self.role: aws.iam.Role | None = None
        door.backend.prepare(self, args, region, child)

        self.api = aws.apigateway.RestApi(
            api_name, name=api_name, description=f"Front door of {model} in {region}",
            endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(types="REGIONAL"),
            binary_media_types=["application/x-npy", "application/octet-stream"], opts=child)
        self._methods: list[pulumi.Resource] = []
        self._invocations(names, model, region, door, child)
        self._ping(names, model, region, door, child)
        self.log_group = aws.cloudwatch.LogGroup(
            names.resource(f"{model}-api-access", region), name=f"/aws/apigateway/{api_name}/access",
            kms_key_id=door.logs_key_arn, retention_in_days=args.log_retention_days, opts=child)
        self.deployment = aws.apigateway.Deployment(
            names.resource(f"{model}-api-deployment", region), rest_api=self.api.id,
            triggers={"routes": pulumi.Output.concat(ROUTES, ":", door.backend.key)},
            opts=pulumi.ResourceOptions(parent=self, provider=door.provider, depends_on=self._methods))
        self.stage = aws.apigateway.Stage(
            names.resource(f"{model}-api-stage", region), rest_api=self.api.id, stage_name=STAGE,
            deployment=self.deployment.id, xray_tracing_enabled=True,
            access_log_settings=aws.apigateway.StageAccessLogSettingsArgs(
                destination_arn=self.log_group.arn, format=ACCESS_LOG_FORMAT), opts=child)
        for path, rate in (("*/*", 1000.0), ("ping/GET", 5.0)):   # Route 53 checkers call /ping ~ once a second
            aws.apigateway.MethodSettings(
                names.resource(f"{model}-api-{path.split('/')[0].replace('*', 'all')}-settings", region),
                rest_api=self.api.id, stage_name=self.stage.stage_name, method_path=path,
                settings=aws.apigateway.MethodSettingsSettingsArgs(
                    metrics_enabled=True, throttling_rate_limit=rate, throttling_burst_limit=int(rate * 2)),
                opts=child)
        self.domain = aws.apigateway.DomainName(
            names.resource(f"{model}-domain", region), domain_name=args.hostname,
            regional_certificate_arn=self.validation.certificate_arn, security_policy="TLS_1_2",
            endpoint_configuration=aws.apigateway.DomainNameEndpointConfigurationArgs(types="REGIONAL"), opts=child)
        aws.apigateway.BasePathMapping(
            names.resource(f"{model}-domain-mapping", region), rest_api=self.api.id, stage_name=self.stage.stage_name,
            domain_name=self.domain.domain_name, opts=child)
        actions = [door.alarm_topic_arn] if door.alarm_topic_arn else []
        self.alarm = aws.cloudwatch.MetricAlarm(
            names.resource(f"{model}-api-5xx", region), name=names.resource(f"{model}-api-5xx", region),
            alarm_description=f"{args.hostname} in {region}: more than {args.error_alarm_percent}% of answers are "
                              f"5xx; Route 53 sends callers to another region while it fires",
            namespace="AWS/ApiGateway", metric_name="5XXError", dimensions={"ApiName": api_name, "Stage": STAGE},
            statistic="Average", period=ALARM_PERIOD, evaluation_periods=ALARM_PERIODS,
            datapoints_to_alarm=ALARM_PERIODS, threshold=args.error_alarm_percent / 100,
            comparison_operator="GreaterThanThreshold", treat_missing_data="notBreaching",
            alarm_actions=actions, ok_actions=actions, opts=child)
        self.register_outputs({"api": self.api.id, "domain": self.domain.regional_domain_name})

    def _invocations(self, names: Names, model: str, region: str, door: RegionalDoor,
                     child: pulumi.ResourceOptions) -> None:
        """`POST /invocations` (IAM auth) -> the backend, body and media types passed through."""
        resource = aws.apigateway.Resource(names.resource(f"{model}-api-invocations", region), rest_api=self.api.id,
                                           parent_id=self.api.root_resource_id, path_part="invocations", opts=child)
        method = aws.apigateway.Method(
            names.resource(f"{model}-api-invoke", region), rest_api=self.api.id, resource_id=resource.id,
            http_method="POST", authorization="AWS_IAM",
            request_parameters={"method.request.header.Content-Type": False, "method.request.header.Accept": False},
            opts=child)
        integration = aws.apigateway.Integration(
            names.resource(f"{model}-api-invoke-integration", region), rest_api=self.api.id, resource_id=resource.id,
            http_method=method.http_method, **door.backend.integration(self, region, "invocations"), opts=child)
        self._methods += [method, integration]
        if not door.backend.proxy:
            self._methods += self._responses(names, model, region, "invoke", resource, method, integration, child)

    def _ping(self, names: Names, model: str, region: str, door: RegionalDoor, child: pulumi.ResourceOptions) -> None:
        """`GET /ping` (no auth) -> the backend's health, answering only its status and the region."""
        resource = aws.apigateway.Resource(names.resource(f"{model}-api-ping", region), rest_api=self.api.id,
                                           parent_id=self.api.root_resource_id, path_part="ping", opts=child)
        method = aws.apigateway.Method(
            names.resource(f"{model}-api-ping-get", region), rest_api=self.api.id, resource_id=resource.id,
            http_method="GET", authorization="NONE", opts=child)
        integration = aws.apigateway.Integration(
            names.resource(f"{model}-api-ping-integration", region), rest_api=self.api.id, resource_id=resource.id,
            http_method=method.http_method, **door.backend.integration(self, region, "ping"), opts=child)
        self._methods += [method, integration, *self._responses(
            names, model, region, "ping", resource, method, integration, child,
            template=ping_template(region, door.backend.ping_status))]

    def _responses(self, names: Names, model: str, region: str, purpose: str, resource: aws.apigateway.Resource,
                   method: aws.apigateway.Method, integration: aws.apigateway.Integration,
                   child: pulumi.ResourceOptions, template: str | None = None) -> list[pulumi.Resource]:
        """200, 400 and 503 answers; without a template the model's body and Content-Type pass through."""
        created: list[pulumi.Resource] = []
        passed = {"method.response.header.Content-Type": "integration.response.header.Content-Type"}
        for status, pattern in RESPONSES.items():
            response = aws.apigateway.MethodResponse(
                names.resource(f"{model}-api-{purpose}-{status}", region), rest_api=self.api.id,
                resource_id=resource.id, http_method=method.http_method, status_code=status,
                response_parameters=None if template else {key: False for key in passed}, opts=child)
            created += [response, aws.apigateway.IntegrationResponse(
                names.resource(f"{model}-api-{purpose}-{status}-mapping", region), rest_api=self.api.id,
                resource_id=resource.id, http_method=method.http_method, status_code=status,
                selection_pattern=pattern, response_parameters=None if template else passed,
                response_templates={"application/json": template} if template and status == "200" else None,
                opts=pulumi.ResourceOptions(parent=self, provider=child.provider,
                                            depends_on=[integration, response]))]
        return created


class ModelRoute(pulumi.ComponentResource):
    """A front door per region, and Route 53 latency records with calculated health checks."""

    def __init__(self, name: str, args: ModelRouteArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("ml-platform:serving:ModelRoute", name, None, opts)
        names, model = args.names, args.model
        self.hostname = args.hostname
        self.doors: dict[str, FrontDoor] = {}
        validation_fqdn: pulumi.Input[str] | None = None
        for region in args.doors:
            door = FrontDoor(names.resource(f"{model}-front-door", region), args, region, validation_fqdn,
                             opts=pulumi.ResourceOptions(parent=self))
            if door.validation_record is not None:
                validation_fqdn = door.validation_record.fqdn
            self.doors[region] = door
        self.health_checks: dict[str, aws.route53.HealthCheck] = {}
        self.records: dict[str, aws.route53.Record] = {}
        for region, door in self.doors.items():
            provider = args.doors[region].provider
            child = pulumi.ResourceOptions(parent=door, provider=provider)
            ping = aws.route53.HealthCheck(
                names.resource(f"{model}-ping-check", region), type="HTTPS_STR_MATCH",
                fqdn=pulumi.Output.concat(door.api.id, f".execute-api.{region}.amazonaws.com"), port=443,
                resource_path=f"/{STAGE}/ping", search_string="InService", request_interval=PING_INTERVAL_SECONDS,
                failure_threshold=PING_FAILURES, measure_latency=False, enable_sni=True, opts=child)
            alarm = aws.route53.HealthCheck(
                names.resource(f"{model}-alarm-check", region), type="CLOUDWATCH_METRIC",
                cloudwatch_alarm_name=door.alarm.name, cloudwatch_alarm_region=region,
                # No data from the region's CloudWatch: send callers elsewhere (Route 53 answers with every
                # record anyway if every region is unhealthy).
                insufficient_data_health_status="Unhealthy", opts=child)
            self.health_checks[region] = aws.route53.HealthCheck(
                names.resource(f"{model}-health", region), type="CALCULATED",
                child_healthchecks=[ping.id, alarm.id], child_health_threshold=2, opts=child)
            self.records[region] = aws.route53.Record(
                names.resource(f"{model}-route", region), zone_id=args.zone_id, name=args.hostname, type="A",
                set_identifier=region, health_check_id=self.health_checks[region].id,
                latency_routing_policies=[aws.route53.RecordLatencyRoutingPolicyArgs(region=region)],
                aliases=[aws.route53.RecordAliasArgs(name=door.domain.regional_domain_name,
                                                     zone_id=door.domain.regional_zone_id,
                                                     evaluate_target_health=True)],
                opts=child)
        self.register_outputs({"hostname": args.hostname})


class ApiGatewayLogging(pulumi.ComponentResource):
    """API Gateway's account setting in each region: the role it writes access logs with (platform stack).

    Access logging of any REST API stage needs it; it is one setting per account and region."""

    def __init__(self, name: str, names: Names, permissions_boundary: pulumi.Input[str],
                 providers: Mapping[str, aws.Provider], opts: pulumi.ResourceOptions | None = None):
        super().__init__("ml-platform:logs:ApiGatewayLogging", name, None, opts)
        role_name = names.resource("apigateway-logs")
        first = next(iter(providers.values()))
        child = pulumi.ResourceOptions(parent=self, provider=first)
        self.role = aws.iam.Role(
            role_name, name=role_name, description="API Gateway writes access logs to the stacks' log groups",
            assume_role_policy=pulumi.Output.json_dumps(documents.assume_role("apigateway.amazonaws.com",
                                                                              names.account_id)),
            permissions_boundary=permissions_boundary, opts=child)
        policy = aws.iam.RolePolicy(
            f"{role_name}-policy", role=self.role.id, opts=child,
            policy=json.dumps(documents.document(
                documents.allow(["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                                names.log_group_arn("/aws/apigateway/*"), sid="AccessLogs"),
                documents.allow(["logs:DescribeLogGroups"], "*", sid="FindLogGroups"))))
        self.accounts = {
            region: aws.apigateway.Account(
                names.resource("apigateway-account", region), cloudwatch_role_arn=self.role.arn,
                opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[policy]))
            for region, provider in providers.items()
        }
        self.register_outputs({"role": self.role.arn})
