"""Programs with one serving defect are refused by `mlp plan --program` (exit 1, naming the resource)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = Path(__file__).parent / "programs"


def plan(program: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "platform_lib.cli", "plan", "--program", str(PROGRAMS / program)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_endpoint_config_without_kms_is_refused():
    result = plan("endpoint_config_without_kms")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "mandatory sagemaker-endpoint-config-kms-encrypted handmade-config" in result.stdout


def test_prod_variant_with_one_instance_is_refused():
    result = plan("prod_variant_one_instance")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "mandatory sagemaker-prod-variant-min-instances single-instance-config" in result.stdout
    assert "sagemaker-endpoint-config-kms-encrypted" not in result.stdout
