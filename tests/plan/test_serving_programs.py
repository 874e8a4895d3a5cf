"""Programs with one serving defect are refused by `mlp plan --program` (exit 1, naming the resource)."""


def test_endpoint_config_without_kms_is_refused(plan_program):
    result = plan_program("endpoint_config_without_kms")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "mandatory sagemaker-endpoint-config-kms-encrypted handmade-config" in result.stdout


def test_prod_variant_with_one_instance_is_refused(plan_program):
    result = plan_program("prod_variant_one_instance")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "mandatory sagemaker-prod-variant-min-instances single-instance-config" in result.stdout
    assert "sagemaker-endpoint-config-kms-encrypted" not in result.stdout
    assert "sagemaker-prod-data-capture" not in result.stdout   # one defect: it captures data


def test_prod_endpoint_without_autoscaling_is_refused_naming_the_endpoint(plan_program):
    result = plan_program("prod_endpoint_without_autoscaling")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "mandatory sagemaker-prod-variant-autoscaling unscaled-endpoint" in result.stdout
    violated = {line.split("✗ mandatory ", 1)[1].split()[0] for line in result.stdout.splitlines()
                if "✗ mandatory " in line}
    assert violated == {"sagemaker-prod-variant-autoscaling"}, result.stdout


def test_internet_facing_serving_nlb_is_refused_naming_it(plan_program):
    result = plan_program("public_serving_nlb")
    assert result.returncode == 1, result.stdout + result.stderr
    violated = {line.split("✗ mandatory ", 1)[1].split()[0] for line in result.stdout.splitlines()
                if "✗ mandatory " in line}
    assert violated == {"elb-network-load-balancer-internal"}, result.stdout
    assert "mandatory elb-network-load-balancer-internal public-door" in result.stdout
