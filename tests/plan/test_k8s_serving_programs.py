"""`mlp plan --program` refuses a serving Deployment without probes (exit 1, naming the resource) and
accepts the objects of the platform's serving renderer."""


def test_serving_deployment_without_probes_is_refused(plan_program):
    result = plan_program("serving_deployment_no_probes")
    assert result.returncode == 1, result.stdout + result.stderr
    out = " ".join(result.stdout.split())
    assert ("mandatory k8s-deployment-probes classifier: Deployment 'vision/classifier' container 'serve' has no "
            "readinessProbe or livenessProbe") in out, result.stdout
    assert "(1 mandatory, 0 advisory)" in out   # the one defect, nothing else


def test_rendered_serving_objects_are_accepted(plan_program):
    result = plan_program("serving_deployment_compliant")
    assert result.returncode == 0, result.stdout + result.stderr
