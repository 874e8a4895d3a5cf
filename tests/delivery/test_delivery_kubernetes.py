"""The Kubernetes target's manifests: valid (kubernetes-validate strict), for the team's namespace, GPU
tolerations from the pool config, torchrun across indexed pods; policy gate and approval before anything."""

from __future__ import annotations

import pytest
import yaml

from platform_lib import guard, outputs, registry
from platform_lib.targets import kubernetes as k8s
from platform_lib.targets.base import DeployRequest, TargetError, TrainingRequest

PACKAGE = registry.Package("arn:aws:sagemaker:eu-west-1:111111111111:model-package/fraud-dev-digits/3",
                           "fraud-dev-digits", 3, "Approved", "111111111111.dkr.ecr.eu-west-1.amazonaws.com/serving:1",
                           "s3://fraud-dev-models-111111111111-euw1/models/digits/abc/model.tar.gz")


@pytest.fixture
def team(planned):
    return outputs.team("fraud-dev", planned)


def _training(team, nodes=2):
    return TrainingRequest("digits-9", "digits", team, "img:1", {"train": "s3://b/t/", "validation": "s3://b/v/"},
                           {"epochs": "3"}, instance_count=nodes)


def test_training_is_an_indexed_job_running_torchrun_with_gpu_tolerations(team):
    service, job = k8s.training_manifests(_training(team), gpus_per_pod=4)
    k8s.validate([service, job])
    assert job["metadata"]["namespace"] == "fraud" and service["spec"]["clusterIP"] == "None"
    spec = job["spec"]
    assert (spec["completionMode"], spec["completions"], spec["parallelism"]) == ("Indexed", 2, 2)
    pod = spec["template"]["spec"]
    assert pod["subdomain"] == "digits-9" and pod["tolerations"] == [k8s.gpu_toleration()]
    script = pod["containers"][0]["command"][2]
    assert script.startswith("torchrun --nnodes=2 --nproc_per_node=4 --node_rank=$JOB_COMPLETION_INDEX "
                             "--master_addr=digits-9-0.digits-9 --master_port=29500 -m training")
    assert "--kms-key=" + team.key_arns["models"]["eu-west-1"] in script
    assert pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 4
    cpu_pod = k8s.training_manifests(_training(team, 1))[1]["spec"]["template"]["spec"]
    assert "tolerations" not in cpu_pod and "nvidia.com/gpu" not in cpu_pod["containers"][0]["resources"]["limits"]


def test_serving_is_deployment_service_hpa(team):
    objects = k8s.serving_manifests(DeployRequest("fraud-dev-digits", PACKAGE, team), gpus=1)
    k8s.validate(objects)
    assert [o["kind"] for o in objects] == ["Deployment", "Service", "HorizontalPodAutoscaler"]
    deployment = objects[0]
    pod = deployment["spec"]["template"]
    assert pod["metadata"]["annotations"]["ml-platform/model-package"] == PACKAGE.arn
    assert pod["spec"]["initContainers"][0]["command"][-2] == f"--uri={PACKAGE.model_data_url}"
    assert pod["spec"]["tolerations"] == [k8s.gpu_toleration()]
    assert objects[2]["spec"]["scaleTargetRef"]["name"] == "fraud-dev-digits"


def test_invalid_object_is_refused_strictly(team):
    objects = k8s.serving_manifests(DeployRequest("fraud-dev-digits", PACKAGE, team))
    objects[0]["spec"]["replica"] = 2   # typo: strict validation rejects unknown fields
    with pytest.raises(TargetError, match="Deployment fraud-dev-digits is not a valid Kubernetes 1.33 object"):
        k8s.validate(objects)
    with pytest.raises(TargetError, match="Unknown|unknown|not a valid"):
        k8s.validate([{"apiVersion": "example.com/v9", "kind": "Widget", "metadata": {"name": "w"}}])


def test_dry_run_prints_manifests_and_creates_nothing(team):
    shown: list[str] = []
    target = k8s.KubernetesTarget(dry_run=True, show=shown.append)
    assert target.deploy(DeployRequest("fraud-dev-digits", PACKAGE, team)).status == "DryRun"
    assert [d["kind"] for d in yaml.safe_load_all(shown[0])] == ["Deployment", "Service", "HorizontalPodAutoscaler"]
    assert target.train(_training(team)).status == "DryRun"


def test_without_kubeconfig_nothing_is_applied(team):
    with pytest.raises(TargetError, match="no kubeconfig"):
        k8s.KubernetesTarget().deploy(DeployRequest("fraud-dev-digits", PACKAGE, team))


def test_unapproved_package_is_refused(team):
    pending = registry.Package(PACKAGE.arn, PACKAGE.group, 3, "PendingManualApproval", PACKAGE.image, "s3://b/k")
    with pytest.raises(registry.RegistryError, match="not Approved"):
        k8s.KubernetesTarget(dry_run=True).deploy(DeployRequest("fraud-dev-digits", pending, team))


def test_objects_reach_the_policy_pack_as_pulumi_kubernetes_resources(team, monkeypatch):
    """The pack's rules see each object under its pulumi-kubernetes type with the manifest as inputs; a
    mandatory violation stops the deploy before anything is printed or applied."""
    from policies import pack
    from policies.rule import Rule

    seen: list[tuple[str, dict]] = []

    def no_gpu_without_toleration(args, report):
        seen.append((args.resource_type, args.props))
        spec = args.props["spec"]["template"]["spec"]
        if "nvidia.com/gpu" in spec["containers"][0]["resources"]["limits"] and not spec.get("tolerations"):
            report("GPU pod without the GPU toleration")

    rule = Rule(id="test-gpu-toleration", description="GPU pods tolerate the GPU taint.", severity="high",
                control="AWS Well-Architected PERF02", kind="resource", validate=no_gpu_without_toleration,
                resource_types=frozenset({"kubernetes:apps/v1:Deployment"}))
    monkeypatch.setattr(pack, "RULES", [*pack.RULES, rule])
    objects = k8s.serving_manifests(DeployRequest("fraud-dev-digits", PACKAGE, team), gpus=1)
    objects[0]["spec"]["template"]["spec"].pop("tolerations")
    with pytest.raises(guard.PolicyViolation, match=r"test-gpu-toleration \(mandatory\) on "
                                                    r"kubernetes:apps/v1:Deployment fraud/fraud-dev-digits"):
        guard.enforce(k8s.as_requests(objects), "prod")
    assert seen[0][0] == "kubernetes:apps/v1:Deployment" and seen[0][1]["kind"] == "Deployment"


def test_prod_serving_gets_two_replicas_a_budget_and_the_shared_renderer(team):
    """`mlp deploy --target kubernetes` renders through platform_lib.k8s_serving (the team stack's renderer):
    probes, non-root, read-only root; in prod an HPA minimum of 2 replicas and a PodDisruptionBudget."""
    from platform_lib import k8s_serving

    prod = team.model_copy(update={"environment": "prod"})
    objects = k8s.serving_manifests(DeployRequest("fraud-prod-digits", PACKAGE, prod))
    k8s.validate(objects)
    assert [o["kind"] for o in objects] == ["Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"]
    deployment, _, hpa, budget = objects
    assert "replicas" not in deployment["spec"] and hpa["spec"]["minReplicas"] == 2   # the HPA owns the scale
    assert budget["spec"] == {"maxUnavailable": 1, "selector": deployment["spec"]["selector"]}
    pod = deployment["spec"]["template"]["spec"]
    assert pod["priorityClassName"] == k8s_serving.PRIORITY_CLASS
    assert pod["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["containers"][0]["livenessProbe"]["httpGet"]["path"] == "/ping"
    assert guard.check(k8s.as_requests(objects), "prod") == []   # the pack's resource rules accept it
