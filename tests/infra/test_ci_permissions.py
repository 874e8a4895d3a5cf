"""Issue 7 item 3: the CI role can deploy what the plan contains. For every resource of every planned
stack, each action its type needs is allowed by the CI policy, allowed by the CI boundary and not
denied by it; the list cannot drift, since a planned type without deploy actions fails here."""

from fnmatch import fnmatchcase

import pytest

from infra.deploy_permissions import DEPLOY_ACTIONS, UNSCOPED, blueprint_types
from tests.infra.iam_eval import allowed, denied

ACCOUNTS = {"dev": "111111111111", "prod": "222222222222"}


def target_arn(view, resource, account: str, action: str) -> str | None:
    """The ARN an action on this resource is authorized against (as AWS builds it)."""
    inputs, kind = resource.inputs, resource.type.split(":")[1]
    if action == "iam:PassRole":
        role = (inputs.get("role") or inputs.get("iamRoleArn") or inputs.get("executionRoleArn")
                or inputs.get("roleArn") or inputs.get("nodeRoleArn") or inputs.get("serviceAccountRoleArn")
                or inputs.get("cloudwatchRoleArn") or (inputs.get("target") or {}).get("roleArn"))
        return role  # None: passes no role (an add-on without its own service account role)
    region = view.by_urn[resource.provider].inputs["region"] if resource.provider else "us-east-1"
    by_type = {
        "aws:sagemaker/featureGroup:FeatureGroup": "arn:aws:sagemaker:{region}:{account}:feature-group/{name}",
        "aws:glue/catalogDatabase:CatalogDatabase": "arn:aws:glue:{region}:{account}:database/{name}",
        "aws:glue/crawler:Crawler": "arn:aws:glue:{region}:{account}:crawler/{name}",
        "aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings":
            "arn:aws:glue:{region}:{account}:catalog",
        "aws:athena/workgroup:Workgroup": "arn:aws:athena:{region}:{account}:workgroup/{name}",
    }
    serving = serving_target(resource, region, account, action)
    if serving:
        return serving
    if resource.type in by_type:
        name = inputs.get("featureGroupName") or inputs.get("name", "")
        return by_type[resource.type].format(region=region, account=account, name=name)
    # issue 11: registries, tracking, alerting, budgets (template, the input naming the resource)
    registry_types = {
        "aws:sagemaker/modelPackageGroup:ModelPackageGroup": ("sagemaker", "model-package-group/{}",
                                                              "modelPackageGroupName"),
        "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy": ("sagemaker", "model-package-group/{}",
                                                                          "modelPackageGroupName"),
        "aws:sagemaker/modelCard:ModelCard": ("sagemaker", "model-card/{}", "modelCardName"),
        "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer": ("sagemaker", "mlflow-tracking-server/{}",
                                                                    "trackingServerName"),
        "aws:ecr/repository:Repository": ("ecr", "repository/{}", "name"),
        "aws:ecr/lifecyclePolicy:LifecyclePolicy": ("ecr", "repository/{}", "repository"),
        "aws:ecr/repositoryPolicy:RepositoryPolicy": ("ecr", "repository/{}", "repository"),
        "aws:sns/topic:Topic": ("sns", "{}", "name"),
        "aws:cloudwatch/metricAlarm:MetricAlarm": ("cloudwatch", "alarm:{}", "name"),
        "aws:cloudwatch/eventRule:EventRule": ("events", "rule/{}", "name"),
        "aws:sagemaker/pipeline:Pipeline": ("sagemaker", "pipeline/{}", "pipelineName"),   # issue 14
        "aws:scheduler/schedule:Schedule": ("scheduler", "schedule/default/{}", "name"),
        "aws:cloudwatch/eventTarget:EventTarget": ("events", "rule/{}", "rule"),   # issue 14: the new-data trigger
    }
    if resource.type == "aws:ecr/repository:Repository" and action.startswith("kms:"):
        return inputs["encryptionConfigurations"][0]["kmsKey"]   # ECR's grant on the repository's key
    if resource.type == "aws:ecr/replicationConfiguration:ReplicationConfiguration":
        return (f"arn:aws:iam::{account}:role/aws-service-role/replication.ecr.amazonaws.com/"
                "AWSServiceRoleForECRReplication")
    if resource.type in registry_types:
        service_name, template, key = registry_types[resource.type]
        return f"arn:aws:{service_name}:{region}:{account}:" + template.format(inputs[key])
    if resource.type in ("aws:sns/topicPolicy:TopicPolicy", "aws:sns/topicSubscription:TopicSubscription"):
        return inputs.get("arn") or inputs["topic"]
    if resource.type == "aws:cloudwatch/dashboard:Dashboard":
        return f"arn:aws:cloudwatch::{account}:dashboard/{inputs['dashboardName']}"
    if resource.type == "aws:budgets/budget:Budget":
        return f"arn:aws:budgets::{account}:budget/{inputs['name']}"
    if action == "iam:CreateServiceLinkedRole" and resource.type.startswith("aws:guardduty"):
        return f"arn:aws:iam::{account}:role/aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty"
    service, name = kind.split("/")
    if action == "iam:CreateServiceLinkedRole" and resource.type.startswith("aws:eks"):
        return f"arn:aws:iam::{account}:role/aws-service-role/eks.amazonaws.com/AWSServiceRoleForAmazonEKS"
    if service == "eks" and not action.startswith("eks:"):
        return (f"arn:aws:kms:{region}:{account}:key/x" if action.startswith("kms:")
                else f"arn:aws:ec2:{region}:{account}:launch-template/x")
    if service == "eks":
        cluster = inputs.get("clusterName") or inputs["name"]
        kinds = {"cluster": "cluster/{c}", "nodeGroup": "nodegroup/{c}/{n}/x", "addon": "addon/{c}/{n}/x",
                 "accessEntry": "access-entry/{c}/role/x", "accessPolicyAssociation": "access-entry/{c}/role/x"}
        node = inputs.get("nodeGroupName") or inputs.get("addonName", "")
        return f"arn:aws:eks:{region}:{account}:" + kinds[name].format(c=cluster, n=node)
    if service == "autoscaling":
        return f"arn:aws:autoscaling:{region}:{account}:autoScalingGroup:x:autoScalingGroupName/eks-x"
    if service == "s3":
        return f"arn:aws:s3:::{inputs.get('bucket', '*')}"
    if resource.type == "aws:iam/role:Role":
        return f"arn:aws:iam::{account}:role/{inputs['name']}"
    if resource.type in ("aws:iam/rolePolicy:RolePolicy", "aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        return f"arn:aws:iam::{account}:role/{inputs['role']}"
    if resource.type == "aws:iam/policy:Policy":
        return f"arn:aws:iam::{account}:policy/{inputs['name']}"
    if resource.type == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
        return f"arn:aws:iam::{account}:oidc-provider/{inputs['url'].removeprefix('https://')}"
    if resource.type == "aws:iam/serviceLinkedRole:ServiceLinkedRole":
        return f"arn:aws:iam::{account}:role/aws-service-role/{inputs['awsServiceName']}/AWSServiceRoleForConfig"
    if service == "kms":
        return f"arn:aws:kms:{region}:{account}:" + (f"key/{resource.id}" if name == "key" else inputs["name"])
    if service == "cloudwatch":
        return f"arn:aws:logs:{region}:{account}:log-group:{inputs['name']}"
    if service == "ec2":
        return f"arn:aws:ec2:{region}:{account}:{name.lower()}/{resource.id}"
    if service == "cloudtrail":
        return f"arn:aws:cloudtrail:{region}:{account}:trail/{inputs['name']}"
    if service == "guardduty":
        return f"arn:aws:guardduty:{region}:{account}:detector/{resource.id}"
    return "*"


def serving_target(resource, region: str, account: str, action: str) -> str | None:
    """Serving types (issue 12) act on their endpoint, alarms, scalable target and a service-linked role."""
    inputs, service = resource.inputs, action.split(":")[0]
    sagemaker = f"arn:aws:sagemaker:{region}:{account}"
    if resource.type.startswith("aws:appautoscaling/"):
        if action == "iam:CreateServiceLinkedRole":
            return (f"arn:aws:iam::{account}:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/"
                    f"AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint")
        if service == "sagemaker":
            return f"{sagemaker}:endpoint/{inputs['resourceId'].split('/')[1]}"
        if service == "cloudwatch":
            return f"arn:aws:cloudwatch:{region}:{account}:alarm:TargetTracking-{inputs['resourceId']}-AlarmHigh-1"
        return f"arn:aws:application-autoscaling:{region}:{account}:scalable-target/0123456789abcdef"
    kinds = {"aws:sagemaker/model:Model": "model", "aws:sagemaker/endpoint:Endpoint": "endpoint",
             "aws:sagemaker/endpointConfiguration:EndpointConfiguration": "endpoint-config"}
    if resource.type in kinds and service == "sagemaker":
        return f"{sagemaker}:{kinds[resource.type]}/{inputs.get('name') or resource.id}"
    if resource.type == "aws:cloudwatch/metricAlarm:MetricAlarm":
        return f"arn:aws:cloudwatch:{region}:{account}:alarm:{inputs['name']}"
    return routing_target(resource, region, account, action)


def routing_target(resource, region: str, account: str, action: str) -> str | None:
    """Front doors, DNS, batch schedules and drift monitors (issue 12), as the service authorization
    reference names their resources."""
    inputs, service = resource.inputs, action.split(":")[0]
    if service == "acm":
        return inputs.get("certificateArn") or f"arn:aws:acm:{region}:{account}:certificate/{resource.id}"
    if service == "route53":
        if resource.type == "aws:route53/healthCheck:HealthCheck":
            return f"arn:aws:route53:::healthcheck/{resource.id}"
        return f"arn:aws:route53:::hostedzone/{inputs['zoneId']}"
    if service == "apigateway":
        if resource.type == "aws:apigateway/domainName:DomainName":
            return f"arn:aws:apigateway:{region}::/domainnames/{inputs['domainName']}"
        if resource.type == "aws:apigateway/account:Account":
            return f"arn:aws:apigateway:{region}::/account"
        return f"arn:aws:apigateway:{region}::/restapis/{inputs.get('restApi') or resource.id}"
    if service == "scheduler":
        return f"arn:aws:scheduler:{region}:{account}:schedule/default/{inputs['name']}"
    return service_door_target(resource, region, account, action)


def service_door_target(resource, region: str, account: str, action: str) -> str | None:
    """Front doors of Kubernetes-served models: load balancers, target groups, listeners, security group rules,
    VPC links and the service-linked roles they create, as the service authorization reference names them."""
    inputs, service = resource.inputs, action.split(":")[0]
    linked = {"aws:lb/loadBalancer:LoadBalancer": "elasticloadbalancing.amazonaws.com/"
                                                  "AWSServiceRoleForElasticLoadBalancing",
              "aws:apigatewayv2/vpcLink:VpcLink": "ops.apigateway.amazonaws.com/AWSServiceRoleForAPIGateway"}
    if action == "iam:CreateServiceLinkedRole" and resource.type in linked:
        return f"arn:aws:iam::{account}:role/aws-service-role/{linked[resource.type]}"
    if service == "apigateway" and resource.type == "aws:apigatewayv2/vpcLink:VpcLink":
        return f"arn:aws:apigateway:{region}::/vpclinks/{resource.id}"
    if service == "elasticloadbalancing":
        if resource.type == "aws:lb/listener:Listener":
            return inputs["loadBalancerArn"].replace(":loadbalancer/", ":listener/") + "/0123456789abcdef"
        kind = "loadbalancer/net" if resource.type == "aws:lb/loadBalancer:LoadBalancer" else "targetgroup"
        return f"arn:aws:elasticloadbalancing:{region}:{account}:{kind}/{inputs['name']}/0123456789abcdef"
    if resource.type.startswith("aws:vpc/securityGroup") and service == "ec2":
        if action.startswith("ec2:AuthorizeSecurityGroup"):
            return f"arn:aws:ec2:{region}:{account}:security-group/{inputs['securityGroupId']}"
        return f"arn:aws:ec2:{region}:{account}:security-group-rule/{resource.id}"
    kinds = {"aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition": "data-quality-job-definition",
             "aws:sagemaker/monitoringSchedule:MonitoringSchedule": "monitoring-schedule"}
    if resource.type in kinds and service == "sagemaker":
        return f"arn:aws:sagemaker:{region}:{account}:{kinds[resource.type]}/{inputs['name']}"
    return None


ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"


def ci_documents(plans, env: str):
    view = plans[f"platform-{env}"]
    policy = view.ci_deploy_statements()
    boundary = view.document(view.named(f"platform-{env}-ci-boundary", "aws:iam/policy:Policy"))["Statement"]
    return policy, boundary


def planned_types(plans) -> set[str]:
    """The AWS types planned (Kubernetes objects are applied through the cluster's API, where CI is
    authorized by its EKS access entry, not by IAM)."""
    return {r.type for view in plans.values() for r in view.resources
            if r.custom and not r.read and not r.type.startswith(("pulumi:", "kubernetes:"))}


def test_every_planned_type_is_a_blueprint_type_with_deploy_actions(plans):
    assert sorted(planned_types(plans) - set(blueprint_types())) == []
    assert sorted(set(blueprint_types()) - set(DEPLOY_ACTIONS)) == []


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_ci_can_deploy_every_resource_of_its_environment(plans, env):
    account = ACCOUNTS[env]
    policy, boundary = ci_documents(plans, env)
    workload_boundary = f"arn:aws:iam::{account}:policy/platform-{env}-workload-boundary"
    context = {"iam:PermissionsBoundary": workload_boundary, "s3:ResourceAccount": account}
    missing = []
    for stack, view in plans.items():
        if not stack.endswith(f"-{env}"):
            continue
        for resource in view.resources:
            if resource.type not in DEPLOY_ACTIONS or resource.name == f"platform-{env}-ci-deploy":
                continue  # the CI role itself: its boundary is the CI boundary (admin path)
            for action in DEPLOY_ACTIONS[resource.type]:
                unscoped = any(fnmatchcase(action, p) for p in UNSCOPED)
                target = "*" if unscoped else target_arn(view, resource, account, action)
                if target is None:
                    continue
                if not (allowed(policy, action, target, context) and allowed(boundary, action, target, context)):
                    missing.append(f"{resource.name}: {action}")
    # The admin path (docs/security.md): CI may not rewrite the boundaries that bound it and its workloads.
    boundaries = [f"platform-{env}-{b}: iam:{a}" for b in ("ci-boundary", "workload-boundary")
                  for a in ("CreatePolicyVersion", "DeletePolicyVersion", "DeletePolicy")]
    # Nor attach a policy to itself: its deploy policies are attached on the admin path, updated by CI.
    own = [f"{r.name}: iam:AttachRolePolicy" for r in plans[f"platform-{env}"].of_type(ATTACHMENT)
           if r.name.startswith(f"platform-{env}-ci-deploy-")]
    assert own and sorted(missing) == sorted(boundaries + own)


def test_ci_can_associate_private_dns_and_manage_the_oidc_provider(plans):
    policy, boundary = ci_documents(plans, "prod")
    oidc = "arn:aws:iam::222222222222:oidc-provider/token.actions.githubusercontent.com"
    for action, target in [("route53:AssociateVPCWithHostedZone", "*"), ("iam:CreateOpenIDConnectProvider", oidc),
                           ("iam:UpdateOpenIDConnectProviderThumbprint", oidc), ("iam:TagOpenIDConnectProvider", oidc)]:
        assert allowed(policy, action, target) and allowed(boundary, action, target), action


def test_ci_may_update_its_own_inline_policy_but_not_its_trust_or_boundaries(plans):
    policy, boundary = ci_documents(plans, "prod")
    me = "arn:aws:iam::222222222222:role/platform-prod-ci-deploy"
    assert allowed(policy, "iam:PutRolePolicy", me) and allowed(boundary, "iam:PutRolePolicy", me)
    for action in ("iam:UpdateAssumeRolePolicy", "iam:PutRolePermissionsBoundary", "iam:DeleteRole",
                   "iam:AttachRolePolicy"):
        assert denied(boundary, action, me), action
    for purpose in ("workload-boundary", "ci-boundary"):
        arn = f"arn:aws:iam::222222222222:policy/platform-prod-{purpose}"
        assert denied(boundary, "iam:CreatePolicyVersion", arn)


def test_ci_cannot_create_an_unbounded_role_or_a_user(plans):
    _, boundary = ci_documents(plans, "prod")
    role = "arn:aws:iam::222222222222:role/platform-prod-anything"
    assert denied(boundary, "iam:CreateRole", role, {"iam:PermissionsBoundary": "arn:aws:iam::aws:policy/Admin"})
    assert denied(boundary, "iam:CreateRole", role, {})
    assert denied(boundary, "iam:CreateUser", "arn:aws:iam::222222222222:user/x")


def test_ci_ceiling_widens_verbs_but_never_onto_data(plans):
    _, boundary = ci_documents(plans, "prod")
    for action, target in [("s3:GetObject", "arn:aws:s3:::fraud-prod-raw-222222222222-euw1/data.csv"),
                           ("s3:GetObject", "*"),
                           ("s3:GetObjectVersion", "arn:aws:s3:::fraud-prod-raw-222222222222-euw1/data.csv"),
                           ("s3:PutObject", "arn:aws:s3:::fraud-prod-raw-222222222222-euw1/data.csv"),
                           ("s3:DeleteObject", "arn:aws:s3:::fraud-prod-raw-222222222222-euw1/data.csv"),
                           ("kms:CreateGrant", "arn:aws:kms:eu-west-1:222222222222:key/x"),
                           ("kms:Decrypt", "arn:aws:kms:eu-west-1:222222222222:key/x")]:
        assert not allowed(boundary, action, target), (action, target)


def test_ceiling_leaves_out_what_the_unscoped_statement_already_allows():
    from infra.deploy_permissions import _unrepeated

    unscoped = {"Effect": "Allow", "Action": ["ecr:Describe*", "logs:Create*"], "Resource": "*"}
    repositories = {"Effect": "Allow", "Action": ["ecr:DescribeImages", "ecr:Put*"], "Resource": "arn:aws:ecr:*:1:*"}
    groups = {"Effect": "Allow", "Action": ["logs:CreateLogGroup"], "Resource": "arn:aws:logs:*:1:*"}
    deny = {"Effect": "Deny", "Action": ["ecr:DescribeImages"], "Resource": "arn:aws:ecr:*:1:x"}
    assert _unrepeated([unscoped, repositories, groups, deny]) == [
        unscoped, {**repositories, "Action": ["ecr:Put*"]}, deny]


def test_elastic_load_balancing_ceiling_is_bounded_by_verbs_and_names(plans):
    _, boundary = ci_documents(plans, "prod")
    own = "arn:aws:elasticloadbalancing:eu-west-1:222222222222:targetgroup/vision-prod-defects-euw1/0a1b"
    other = "arn:aws:elasticloadbalancing:eu-west-1:222222222222:targetgroup/vision-dev-defects-euw1/0a1b"
    assert allowed(boundary, "elasticloadbalancing:CreateTargetGroup", own)
    assert not allowed(boundary, "elasticloadbalancing:CreateTargetGroup", other)
    assert not allowed(boundary, "elasticloadbalancing:RegisterTargets", own)   # CI never registers targets
    assert allowed(boundary, "elasticloadbalancing:DescribeTargetHealth", "*")
