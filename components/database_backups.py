"""Daily full backups of the region's own database, copied to another region, kept 30 days.

Continuous WAL archiving (point-in-time recovery) is the database's own automated
backup, set on the cluster. On top of it, every region has an AWS Backup vault encrypted
with its key and a daily plan that backs up **its own** database into it: a secondary's
plan already selects its cluster, so the day a failover promotes it, the new writer is
backed up without a deployment (checkov CKV2_AWS_8: every writer in a plan).

Copies go only to vaults that exist when the stack deploys, never to one a later stack
will create (a copy rule pointing at a missing vault fails every night until it exists):

- a later stack copies into the vaults of the stacks deployed before it (their
  `backupVaultArn` outputs, read when it deploys);
- the primary deploys first, so no other stack's vault exists yet: it declares its copy
  destination itself, a vault `<vault>-copies` in the region of the next stack in deploy
  order (through that region's provider, encrypted with the key the primary made there),
  and the plan's copy rule names that vault's ARN, so Pulumi creates the vault first.

A copy rule can only live in the source region's plan (AWS Backup copies a recovery
point from the vault it was made in), so a later stack cannot add "copy the primary's
backups to me" to the primary's plan; the primary's data reaches every later region
anyway, as the later regions' own backups of their replicas. A vault is never replaced
(AWS refuses to delete one that holds recovery points), so its fixed name is safe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

import pulumi
import pulumi_aws as aws

from components.iam import service_trust_policy

BACKUP_POLICIES = {
    "backup": "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
    "restores": "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
}
# 06:00 UTC: clear of the database's own backup window (03:00-04:00) and maintenance
# window (Sunday 04:30-05:30), inside which AWS Backup jobs of RDS fail.
DAILY = "cron(0 6 ? * * *)"
COPIES_SUFFIX = "-copies"


def vault_name(environment: str, stack: str) -> str:
    return f"hse-{environment}-{stack}"


@dataclass(frozen=True)
class CopyVault:
    """A vault this stack declares in another region to receive its copies."""

    region: str
    provider: aws.Provider
    """The explicit provider of `region`."""
    key_arn: pulumi.Input[str]
    """The platform's key in `region`."""


@dataclass(frozen=True)
class DatabaseBackupsArgs:
    """Inputs of `DatabaseBackups`."""

    vault_name: str
    """This region's vault."""
    key_arn: pulumi.Input[str]
    """The region's key; the vault encrypts recovery points with it."""
    retention_days: int
    """How long backups and their copies are kept."""
    database_arn: pulumi.Input[str]
    """The region's own database (writer or replica): backed up daily."""
    copy_to: Sequence[pulumi.Input[str]] = field(default_factory=tuple)
    """ARNs of vaults that already exist in other regions (the earlier stacks') that receive a copy."""
    copy_vault: Optional[CopyVault] = None
    """A vault to declare in another region for the copies (the primary, which has no earlier stack)."""


class DatabaseBackups(pulumi.ComponentResource):
    """The region's vault, its daily plan for the region's database, the plan's role and selection."""

    vault_arn: pulumi.Output[str]
    copy_vault_arns: list[pulumi.Output[str]]

    def __init__(self, name: str, args: DatabaseBackupsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("hse:data:DatabaseBackups", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        vault = aws.backup.Vault(f"{name}-vault", name=args.vault_name, kms_key_arn=args.key_arn, opts=child)
        self.vault_arn = vault.arn
        destinations: list[pulumi.Input[str]] = list(args.copy_to)
        if args.copy_vault is not None:
            copies = aws.backup.Vault(f"{name}-copies-vault", name=f"{args.vault_name}{COPIES_SUFFIX}",
                                      kms_key_arn=args.copy_vault.key_arn,
                                      opts=pulumi.ResourceOptions(parent=self, provider=args.copy_vault.provider))
            destinations.append(copies.arn)
        self.copy_vault_arns = [pulumi.Output.from_input(d) for d in destinations]
        role = aws.iam.Role(f"{name}-role", assume_role_policy=service_trust_policy("backup.amazonaws.com"),
                            opts=child)
        attachments = [aws.iam.RolePolicyAttachment(f"{name}-role-{use}", role=role.name, policy_arn=arn, opts=child)
                       for use, arn in BACKUP_POLICIES.items()]
        lifecycle = aws.backup.PlanRuleLifecycleArgs(delete_after=args.retention_days)
        plan = aws.backup.Plan(
            f"{name}-plan",
            rules=[aws.backup.PlanRuleArgs(
                rule_name="daily-full",
                target_vault_name=vault.name,
                schedule=DAILY,
                start_window=60,
                completion_window=480,
                lifecycle=lifecycle,
                copy_actions=[aws.backup.PlanRuleCopyActionArgs(destination_vault_arn=arn, lifecycle=lifecycle)
                              for arn in destinations],
            )],
            opts=child,
        )
        aws.backup.Selection(
            f"{name}-selection",
            plan_id=plan.id,
            iam_role_arn=role.arn,
            resources=[args.database_arn],
            opts=pulumi.ResourceOptions(parent=self, depends_on=attachments),
        )
        self.register_outputs({"vaultArn": self.vault_arn})
