"""Resilience rules: backups, recovery objectives and the replication-lag alarm.

The spec: 30-day retention with cross-region backup replication, RTO under 5 minutes,
RPO under 1 minute.
"""

from __future__ import annotations

from policies import types as t
from policies.rule import (MANDATORY, arn_region, as_list, global_secondary_ids, of_type, region_of, resource_policy,
                           setting, stack_outputs, stack_policy)
from policies.rules.database import LAG_METRICS

DOMAIN = "resilience"
MIN_RETENTION_DAYS = 30
RTO_SECONDS = 300


def backup_plan_retention(args, report_violation):
    minimum = setting(args, "minimumDays", MIN_RETENTION_DAYS)
    for rule in as_list(args.props.get("rules")):
        lifecycles = [rule.get("lifecycle") or {}, *((c.get("lifecycle") or {}) for c in as_list(rule.get("copyActions")))]
        short = [lc.get("deleteAfter") for lc in lifecycles if lc.get("deleteAfter") and lc["deleteAfter"] < minimum]
        if short:
            report_violation(f"Backup rule {rule.get('ruleName')} must keep backups and copies at least {minimum} days "
                             f"(found {min(short)}).")


def backup_cross_region_copy(args, report_violation):
    home = region_of(args)
    for rule in as_list(args.props.get("rules")):
        regions = {arn_region(c.get("destinationVaultArn")) for c in as_list(rule.get("copyActions"))}
        if not regions - {home, None}:
            report_violation(f"Backup rule {rule.get('ruleName')} must copy backups to another region.")


def backup_vault_kms(args, report_violation):
    if not args.props.get("kmsKeyArn"):
        report_violation("Backup vault must be encrypted with a customer-managed KMS key.")


def cluster_backup_plan(args, report_violation):
    """Every writer database is selected by an AWS Backup plan; an Aurora global secondary is
    exempt (it holds the primary's data), though the program's own plans select it too, so
    that a promoted secondary is covered (components/database_backups.py)."""
    selected = {arn for s in of_type(args, t.BACKUP_SELECTION) for arn in as_list(s.props.get("resources"))}
    secondaries = global_secondary_ids(args)
    for db in of_type(args, t.RDS_CLUSTER, t.RDS_INSTANCE):
        if db.urn in secondaries or db.props.get("replicateSourceDb"):
            continue
        if db.props.get("arn") not in selected:
            report_violation("Database must be selected by an AWS Backup plan.", db.urn)


def modeled_rto(args, report_violation):
    """The stack's modeled RTO (the `modeledRto` output) is within the objective; passes
    when the stack exports no model (nothing routed)."""
    model = stack_outputs(args).get("modeledRto")
    if not model:
        return
    objective = setting(args, "rtoSeconds", RTO_SECONDS)
    for key in ("totalSeconds", "fastProfileTotalSeconds"):
        value = model.get(key)
        if value is not None and value > objective:
            report_violation(f"Modeled RTO ({key}) must be within {objective} s (found {value}).")


def lag_alarm_present(args, report_violation):
    """Every replica database (an Aurora global secondary or an RDS read replica) has a
    replication-lag alarm (its threshold is checked by replication-lag-alarm-below-rpo)."""
    watched = {str(v) for a in of_type(args, t.METRIC_ALARM) if a.props.get("metricName") in LAG_METRICS
               for v in (a.props.get("dimensions") or {}).values()}
    secondaries = global_secondary_ids(args)
    for db in of_type(args, t.RDS_CLUSTER, t.RDS_INSTANCE):
        if db.urn not in secondaries and not db.props.get("replicateSourceDb"):
            continue
        ident = db.props.get("clusterIdentifier") or db.props.get("identifier")
        if ident not in watched:
            report_violation("Replica database must have a replication-lag alarm.", db.urn)


POLICIES = [
    resource_policy("backup-plan-retention", "Backups and their copies are kept for the spec's 30 days.",
                    backup_plan_retention, level=MANDATORY, types=[t.BACKUP_PLAN], domain=DOMAIN,
                    config={"minimumDays": {"type": "integer", "default": MIN_RETENTION_DAYS}}),
    resource_policy("backup-cross-region-copy", "Backups are copied to another region.",
                    backup_cross_region_copy, level=MANDATORY, types=[t.BACKUP_PLAN], domain=DOMAIN),
    resource_policy("backup-vault-kms", "Backup vaults are encrypted with a customer-managed key.",
                    backup_vault_kms, level=MANDATORY, types=[t.BACKUP_VAULT], domain=DOMAIN, checkov=["CKV_AWS_166"]),
    stack_policy("rds-cluster-backup-plan", "Every writer database is in an AWS Backup plan.",
                 cluster_backup_plan, level=MANDATORY, domain=DOMAIN, checkov=["CKV2_AWS_8"]),
    stack_policy("modeled-rto-within-objective", "The modeled recovery time is within the spec's 5 minutes.",
                 modeled_rto, level=MANDATORY, domain=DOMAIN,
                 config={"rtoSeconds": {"type": "integer", "default": RTO_SECONDS}}),
    stack_policy("replication-lag-alarm-present", "Every replica database has a replication-lag alarm.",
                 lag_alarm_present, level=MANDATORY, domain=DOMAIN),
]
