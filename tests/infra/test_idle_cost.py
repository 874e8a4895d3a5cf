"""The README's idle dev cluster cost is computed from the dated price sheet and platform-dev's config."""

from pathlib import Path

import yaml

from platform_lib.config.loader import load_stack_file

ROOT = Path(__file__).resolve().parents[2]
SHEET = ROOT / "prices" / "aws-eu-west-1.yaml"


def idle_cluster_month(sheet: dict, stack: Path) -> dict[str, float]:
    """What one region's cluster costs per month with every pool at its minimum (GPU pools at zero)."""
    compute = load_stack_file(stack).platform.compute
    prices, hours = sheet["entries"], sheet["hoursPerMonth"]
    lines = {"EKS control plane": prices["eks-cluster"]["price"] * hours, "eks KMS key": prices["kms/key"]["price"]}
    for pool in compute.node_pools:
        if pool.min_size:
            instance = pool.instance_types[0]
            lines[f"{pool.name} pool: {pool.min_size} × {instance}"] = (
                pool.min_size * prices[f"ec2/{instance}"]["price"] * hours)
            lines[f"{pool.name} pool: {pool.min_size} × {pool.disk_size_gib} GiB gp3"] = (
                pool.min_size * pool.disk_size_gib * prices["ebs/gp3"]["price"])
    return {k: round(v, 2) for k, v in lines.items()}


def test_every_price_is_dated_and_sourced():
    sheet = yaml.safe_load(SHEET.read_text())
    assert sheet["recorded"] and sheet["currency"] == "USD" and sheet["region"] == "eu-west-1"
    for name, entry in sheet["entries"].items():
        assert entry["price"] > 0 and entry["unit"], name
        assert entry["source"].startswith("https://aws.amazon.com/"), name


def test_readme_states_the_idle_dev_cluster_cost():
    sheet = yaml.safe_load(SHEET.read_text())
    lines = idle_cluster_month(sheet, ROOT / "stacks" / "Pulumi.platform-dev.yaml")
    assert lines == {"EKS control plane": 73.0, "eks KMS key": 1.0, "system pool: 1 × m6i.large": 78.11,
                     "system pool: 1 × 100 GiB gp3": 8.8}
    readme = (ROOT / "README.md").read_text()
    assert f"**${sum(lines.values()):.2f} per month**" in readme
    for label, amount in lines.items():
        assert f"| {label} | ${amount:.2f} |" in readme, label
