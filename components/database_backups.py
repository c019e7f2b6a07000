"""Daily full backups of the database with copies in the other regions, kept 30 days.

Continuous WAL archiving (point-in-time recovery) is the database's own automated
backup, set on the cluster. On top of it, every region has an AWS Backup vault
encrypted with its key; the primary's plan takes a daily backup of the database into its
own vault and copies it into every other region's vault, each copy kept as long as the
original. The secondaries' vaults receive those copies. Vault names are derived from the
stack files (`hse-<environment>-<stack>`), which is how the primary can name a
secondary's vault before that stack has deployed; a vault is never replaced (AWS refuses
to delete one that holds recovery points), so a fixed name is safe here.
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


def vault_name(environment: str, stack: str) -> str:
    return f"hse-{environment}-{stack}"


def vault_arn(region: str, account_id: str, name: str) -> str:
    return f"arn:aws:backup:{region}:{account_id}:backup-vault:{name}"


@dataclass(frozen=True)
class DatabaseBackupsArgs:
    """Inputs of `DatabaseBackups`."""

    vault_name: str
    """This region's vault."""
    key_arn: pulumi.Input[str]
    """The region's key; the vault encrypts recovery points with it."""
    retention_days: int
    """How long backups and their copies are kept."""
    database_arn: Optional[pulumi.Input[str]] = None
    """The database to back up (the primary's); None in a secondary, whose vault only receives copies."""
    copy_to: Sequence[str] = field(default_factory=tuple)
    """ARNs of the other regions' vaults that receive a copy of each backup."""


class DatabaseBackups(pulumi.ComponentResource):
    """A vault, and in the primary the daily plan, its role and its selection."""

    vault_arn: pulumi.Output[str]

    def __init__(self, name: str, args: DatabaseBackupsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("hse:data:DatabaseBackups", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        vault = aws.backup.Vault(f"{name}-vault", name=args.vault_name, kms_key_arn=args.key_arn, opts=child)
        self.vault_arn = vault.arn
        if args.database_arn is not None:
            role = aws.iam.Role(
                f"{name}-role",
                assume_role_policy=service_trust_policy("backup.amazonaws.com"),
                opts=child,
            )
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
                                  for arn in args.copy_to],
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
