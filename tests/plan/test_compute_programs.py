"""`mlp plan --program` refuses the compute plane's classic mistakes (exit 1, naming the resource)."""

import pytest


@pytest.mark.parametrize("program, expected", [
    ("gpu_deployment_no_toleration",
     "mandatory gpu-taint-tolerated scorer: Deployment 'fraud/scorer' requests nvidia.com/gpu but does not "
     "tolerate nvidia.com/gpu=true:NoSchedule"),
    ("public_eks_prod", "mandatory eks-endpoint-not-public shadow-eks: EKS cluster 'shadow-prod-eks' has a public "
                        "API endpoint"),
    ("imdsv1_launch_template", "mandatory launch-template-imdsv2-encrypted legacy-nodes: launch template "
                               "'legacy-nodes' allows IMDSv1"),
])
def test_compute_mistakes_are_refused(program, expected, plan_program):
    result = plan_program(program)
    assert result.returncode == 1, result.stdout + result.stderr
    assert expected in " ".join(result.stdout.split()), result.stdout
    assert "(1 mandatory, 0 advisory)" in result.stdout   # the one defect, nothing else


def test_gpu_workload_built_from_the_gpu_object_is_accepted(plan_program):
    result = plan_program("gpu_deployment_compliant")
    assert result.returncode == 0, result.stdout + result.stderr
