"""What every section of a stack's config shares: the key namespace, the stack-name rule,
the values AWS accepts everywhere, and the section base model.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict


if TYPE_CHECKING:
    pass


NAMESPACE = "hse"


STACK_NAME = re.compile(r"^[a-z][a-z0-9-]{0,18}[a-z0-9]$")


# Namespaces a stack file may use besides the project's: the engine's own and the providers'.
OTHER_NAMESPACES = ("pulumi", "aws", "kubernetes", "cloudflare", "fastly", "random")


# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
                      1096, 1827, 2192, 2557, 2922, 3288, 3653)


class Section(BaseModel):
    """A group of flat `hse:` keys; field aliases are the key names."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
