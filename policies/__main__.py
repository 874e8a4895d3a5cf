"""Entry point the Pulumi CLI runs (``python policies/``): serve the pack. Never import this.

Constructing ``PolicyPack`` starts a gRPC server and blocks; tests and ``mlp plan`` use
``policies.pack`` instead. Without ``--policy-pack-config`` every rule is mandatory.
"""

import sys
from pathlib import Path

_REPO_ROOT = str(Path(__file__).resolve().parent.parent)
if _REPO_ROOT not in sys.path:  # works without the editable install too
    sys.path.insert(0, _REPO_ROOT)

from pulumi_policy import PolicyPack  # noqa: E402

from policies.pack import DEFAULT_LEVEL, PACK_DESCRIPTION, PACK_NAME, build_policies  # noqa: E402

PolicyPack(
    name=PACK_NAME,
    description=PACK_DESCRIPTION,
    enforcement_level=DEFAULT_LEVEL,
    policies=build_policies(),
)
