"""The policy pack as the Pulumi CLI runs it: `pulumi preview --stack <name> --policy-pack policies`.

This entry point serves the pack over gRPC and blocks; the offline runner is
`python -m policies.cli check`, which runs the same policies with the same config.
"""

import sys
from pathlib import Path

# The CLI starts the pack from this folder; the rules import the project's own modules.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import PolicyPack  # noqa: E402

from policies.pack import DEFAULT_LEVEL, PACK_NAME, POLICIES  # noqa: E402

PolicyPack(name=PACK_NAME, policies=POLICIES, enforcement_level=DEFAULT_LEVEL)
