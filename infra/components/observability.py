"""Observability: KMS-encrypted alert topics the owners subscribe to, a team dashboard built from one
definition per metric set, and alarms (team endpoints and training jobs; platform NAT and clusters)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from infra import documents
from infra.naming import Names

PERIOD = 300   # seconds: the resolution of every widget and alarm
ENDPOINT_VARIANT = "AllTraffic"
TRAINING_FAILED = "training-failed"


@dataclass(frozen=True)
class MetricSet:
    """One widget: metrics of one CloudWatch schema, found by SEARCH over the team's resource names, so
    every endpoint or training job of the team appears without listing it."""

    title: str
    namespace: str
    dimensions: tuple[str, ...]
    metrics: tuple[tuple[str, str], ...]         # (metric name, statistic)
    unit: str
    scope: str = "serving"                       # serving: every serving region; training: the primary only
    term: str = "{team}-{env}"                   # what SEARCH matches: the team's names, or its namespace

    def expressions(self, search_term: str) -> list[tuple[str, str]]:
        """`(label, SEARCH expression)` per metric."""
        schema = ",".join((self.namespace, *self.dimensions))
        return [(f"{name} {stat}", f"SEARCH('{{{schema}}} MetricName=\"{name}\" {search_term}', '{stat}', {PERIOD})")
                for name, stat in self.metrics]

    def widget(self, search_term: str, region: str) -> dict[str, Any]:
        metrics = [[{"expression": expression, "label": label, "id": f"m{index}"}]
                   for index, (label, expression) in enumerate(self.expressions(search_term))]
        return {"type": "metric", "width": 12, "height": 6,
                "properties": {"title": f"{self.title} ({region})", "region": region, "view": "timeSeries",
                               "stacked": False, "period": PERIOD, "metrics": metrics,
                               "yAxis": {"left": {"label": self.unit, "showUnits": False}}}}


ENDPOINT = ("EndpointName", "VariantName")
TEAM_METRIC_SETS: tuple[MetricSet, ...] = (
    MetricSet("Endpoint invocations", "AWS/SageMaker", ENDPOINT, (("Invocations", "Sum"),), "requests / 5 min"),
    MetricSet("Model latency", "AWS/SageMaker", ENDPOINT, (("ModelLatency", "p50"), ("ModelLatency", "p99")),
              "microseconds"),
    MetricSet("Endpoint errors", "AWS/SageMaker", ENDPOINT,
              (("Invocation4XXErrors", "Sum"), ("Invocation5XXErrors", "Sum")), "answers / 5 min"),
    MetricSet("Endpoint instances", "/aws/sagemaker/Endpoints", ENDPOINT,
              (("CPUUtilization", "Average"), ("MemoryUtilization", "Average"), ("GPUUtilization", "Average"),
               ("GPUMemoryUtilization", "Average")), "percent (CPU and GPU: 100 per core or device)"),
    MetricSet("Training instances", "/aws/sagemaker/TrainingJobs", ("Host",),
              (("CPUUtilization", "Average"), ("MemoryUtilization", "Average"), ("GPUUtilization", "Average")),
              "percent", scope="training"),
    MetricSet("Training job failures", "AWS/Events", ("RuleName",), (("MatchedEvents", "Sum"),), "failed jobs",
              scope="training"),
)


def dashboard_body(names: Names, primary_region: str, serving_regions: Sequence[str],
                   metric_sets: Sequence[MetricSet] = TEAM_METRIC_SETS) -> dict[str, Any]:
    """Every metric set, for every region it applies to, matched on the team's names (`<team>-<env>`)."""
    term = f"{names.scope}-{names.environment}"
    widgets = [metric_set.widget(metric_set.term.format(team=names.scope, env=names.environment), region)
               for metric_set in metric_sets
               for region in (serving_regions if metric_set.scope == "serving" else [primary_region])]
    header = {"type": "text", "width": 24, "height": 2, "properties": {"markdown": (
        f"## {term}: endpoints and training\nEvery endpoint and training job named `{term}-*`. Latency is in "
        f"microseconds (SageMaker's ModelLatency). Alarms notify the `{names.resource('alerts')}` topics.")}}
    return {"widgets": [header, *widgets]}


def alerts_key_statement(account_id: str) -> documents.Statement:
    """CloudWatch alarms and EventBridge publish to the encrypted topics: they need the key, for this
    account only."""
    return {"Sid": "AlarmsPublishToEncryptedTopics", "Effect": "Allow",
            "Principal": {"Service": ["cloudwatch.amazonaws.com", "events.amazonaws.com"]},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}}}


@dataclass(frozen=True)
class Alarm:
    """A CloudWatch alarm on one metric, as data (the same shape for teams and the platform)."""

    name: str
    description: str
    namespace: str
    metric: str
    dimensions: Mapping[str, pulumi.Input[str]]
    threshold: float
    statistic: str = "Sum"                       # or a percentile such as p99
    comparison: str = "GreaterThanThreshold"
    evaluation_periods: int = 1

    def create(self, topic: aws.sns.Topic, opts: pulumi.ResourceOptions) -> aws.cloudwatch.MetricAlarm:
        percentile = self.statistic.startswith("p")
        return aws.cloudwatch.MetricAlarm(
            self.name, name=self.name, alarm_description=self.description, namespace=self.namespace,
            metric_name=self.metric, dimensions=dict(self.dimensions), period=PERIOD,
            evaluation_periods=self.evaluation_periods, threshold=self.threshold,
            comparison_operator=self.comparison,
            extended_statistic=self.statistic if percentile else None,
            statistic=None if percentile else self.statistic,
            treat_missing_data="notBreaching", alarm_actions=[topic.arn], ok_actions=[topic.arn], opts=opts,
        )


@dataclass(frozen=True)
class AlertsArgs:
    names: Names
    regions: Sequence[str]                       # a topic in each (alarms notify topics of their region)
    primary_region: str
    emails: Sequence[str]
    key_arns: Mapping[str, pulumi.Input[str]]    # region -> KMS key of the topics


class Alerts(pulumi.ComponentResource):
    """`<scope>-<env>-alerts[-<region>]`: SNS topics under a KMS key, email subscriptions, and a policy
    letting only CloudWatch and EventBridge of this account publish besides the account itself."""

    def __init__(self, name: str, args: AlertsArgs, providers: Mapping[str, aws.Provider],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("ml-platform:observability:Alerts", name, None, opts)
        names = args.names
        self.topics: dict[str, aws.sns.Topic] = {}
        for region in args.regions:
            child = pulumi.ResourceOptions(parent=self, provider=providers[region])
            topic_name = names.resource("alerts", None if region == args.primary_region else region)
            topic = aws.sns.Topic(topic_name, name=topic_name, kms_master_key_id=args.key_arns[region], opts=child)
            aws.sns.TopicPolicy(f"{topic_name}-policy", arn=topic.arn, policy=topic.arn.apply(
                lambda arn: json.dumps(documents.document({
                    "Sid": "AlarmsPublish", "Effect": "Allow",
                    "Principal": {"Service": ["cloudwatch.amazonaws.com", "events.amazonaws.com"]},
                    "Action": "sns:Publish", "Resource": arn,
                    "Condition": {"StringEquals": {"aws:SourceAccount": names.account_id}}}))), opts=child)
            for index, email in enumerate(args.emails):
                aws.sns.TopicSubscription(f"{topic_name}-email-{index}", topic=topic.arn, protocol="email",
                                          endpoint=email, opts=child)
            self.topics[region] = topic
        self.register_outputs({"topics": self.arns})

    @property
    def arns(self) -> dict[str, pulumi.Output[str]]:
        return {region: topic.arn for region, topic in self.topics.items()}


@dataclass(frozen=True)
class TeamObservabilityArgs:
    alerts: AlertsArgs                           # regions: the team's serving regions
    models: Sequence[str]                        # declared models: endpoint `<team>-<env>-<model>`
    latency_limit_ms: int
    server_errors_limit: int


def team_alarms(names: Names, region: str | None, models: Sequence[str], latency_limit_ms: int,
                server_errors_limit: int) -> list[Alarm]:
    """Per declared model's endpoint `<team>-<env>-<model>`: p99 latency and 5xx answers, in one serving
    region (``None``: the primary; alarm names of other regions end with the region's code)."""
    alarms = []
    for model in models:
        endpoint = names.resource(model)
        dimensions = {"EndpointName": endpoint, "VariantName": ENDPOINT_VARIANT}
        alarms += [
            Alarm(names.resource(f"{model}-latency-p99", region),
                  f"p99 model latency of {endpoint} above {latency_limit_ms} ms for 15 minutes", "AWS/SageMaker",
                  "ModelLatency", dimensions, latency_limit_ms * 1000.0, statistic="p99", evaluation_periods=3),
            Alarm(names.resource(f"{model}-5xx", region),
                  f"more than {server_errors_limit} 5xx answers of {endpoint} in 5 minutes", "AWS/SageMaker",
                  "Invocation5XXErrors", dimensions, float(server_errors_limit)),
        ]
    return alarms


class TeamObservability(pulumi.ComponentResource):
    """The team's dashboard, its alert topics, its endpoint alarms, and an alarm on failed training jobs
    (an EventBridge rule counts SageMaker's `Failed` state changes of `<team>-<env>-*` jobs)."""

    def __init__(self, name: str, args: TeamObservabilityArgs, providers: Mapping[str, aws.Provider],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("ml-platform:observability:TeamObservability", name, None, opts)
        alerts_args = args.alerts
        names, primary = alerts_args.names, alerts_args.primary_region
        self.alerts = Alerts(names.resource("alerts"), alerts_args, providers,
                             opts=pulumi.ResourceOptions(parent=self))
        primary_opts = pulumi.ResourceOptions(parent=self, provider=providers[primary])
        self.dashboard = aws.cloudwatch.Dashboard(
            names.resource("dashboard"), dashboard_name=names.resource("dashboard"),
            dashboard_body=json.dumps(dashboard_body(names, primary, alerts_args.regions)), opts=primary_opts)
        rule_name = names.resource(TRAINING_FAILED)
        rule = aws.cloudwatch.EventRule(
            rule_name, name=rule_name, description=f"SageMaker training jobs {names.scope_glob()} that failed",
            event_pattern=json.dumps({
                "source": ["aws.sagemaker"], "detail-type": ["SageMaker Training Job State Change"],
                "detail": {"TrainingJobStatus": ["Failed"],
                           "TrainingJobName": [{"prefix": f"{names.scope}-{names.environment}-"}]}}),
            opts=primary_opts)
        Alarm(f"{rule_name}-alarm", f"a training job of {names.scope} ({names.environment}) failed", "AWS/Events",
              "MatchedEvents", {"RuleName": rule.name}, 0.0).create(self.alerts.topics[primary], primary_opts)
        for region in alerts_args.regions:
            regional = pulumi.ResourceOptions(parent=self, provider=providers[region])
            for alarm in team_alarms(names, None if region == primary else region, args.models,
                                     args.latency_limit_ms, args.server_errors_limit):
                alarm.create(self.alerts.topics[region], regional)
        self.register_outputs({"dashboard": self.dashboard.dashboard_name, "topics": self.alerts.arns})


@dataclass(frozen=True)
class PlatformObservabilityArgs:
    alerts: AlertsArgs                           # regions: every region of the platform
    nat_gateway_ids: Mapping[str, Sequence[pulumi.Input[str]]]   # region -> NAT gateways
    cluster_names: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)   # region -> EKS cluster


def platform_alarms(names: Names, region: str, nat_gateway_ids: Sequence[pulumi.Input[str]],
                    cluster_name: pulumi.Input[str] | None) -> list[Alarm]:
    """NAT gateways that cannot allocate ports or drop packets; a cluster with failed nodes."""
    alarms = []
    for index, nat in enumerate(nat_gateway_ids):
        alarms += [
            Alarm(names.resource(f"nat-{index}-port-errors", region),
                  f"NAT gateway {index} in {region} could not allocate source ports",
                  "AWS/NATGateway", "ErrorPortAllocation", {"NatGatewayId": nat}, 0.0),
            Alarm(names.resource(f"nat-{index}-dropped", region),
                  f"NAT gateway {index} in {region} dropped packets for 15 minutes",
                  "AWS/NATGateway", "PacketsDropCount", {"NatGatewayId": nat}, 0.0, evaluation_periods=3),
        ]
    if cluster_name is not None:
        alarms.append(Alarm(names.resource("cluster-failed-nodes", region), f"EKS nodes failed in {region}",
                            "ContainerInsights", "cluster_failed_node_count", {"ClusterName": cluster_name}, 0.0,
                            statistic="Maximum"))
    return alarms


class PlatformObservability(pulumi.ComponentResource):
    """The platform's alert topics (the platform owners subscribe) and its infrastructure alarms."""

    def __init__(self, name: str, args: PlatformObservabilityArgs, providers: Mapping[str, aws.Provider],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("ml-platform:observability:PlatformObservability", name, None, opts)
        names = args.alerts.names
        self.alerts = Alerts(names.resource("alerts"), args.alerts, providers, opts=pulumi.ResourceOptions(parent=self))
        for region in args.alerts.regions:
            for alarm in platform_alarms(names, region, args.nat_gateway_ids.get(region, []),
                                         args.cluster_names.get(region)):
                alarm.create(self.alerts.topics[region],
                             pulumi.ResourceOptions(parent=self, provider=providers[region]))
        self.register_outputs({"topics": self.alerts.arns})
