"""`mlp plan --program` refuses a serving Deployment without probes (exit 1, naming the resource) and
accepts the objects of the platform's serving renderer."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = Path(__file__).parent / "programs"


def mlp_plan(program: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "platform_lib.cli", "plan", "--program", str(PROGRAMS / program)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_serving_deployment_without_probes_is_refused():
    result = mlp_plan("serving_deployment_no_probes")
    assert result.returncode == 1, result.stdout + result.stderr
    out = " ".join(result.stdout.split())
    assert ("mandatory k8s-deployment-probes classifier: Deployment 'vision/classifier' container 'serve' has no "
            "readinessProbe or livenessProbe") in out, result.stdout
    assert "(1 mandatory, 0 advisory)" in out   # the one defect, nothing else


def test_rendered_serving_objects_are_accepted():
    result = mlp_plan("serving_deployment_compliant")
    assert result.returncode == 0, result.stdout + result.stderr
