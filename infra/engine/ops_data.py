"""What the offline cloud answers for the operations tier: the failover controller's
DynamoDB global table, SQS dead-letter queue, Lambda function and its permissions,
EventBridge rules and targets, and AWS FIS experiment templates.

Formats follow the services': table ARNs with a stream label, queue URLs per region,
function ARNs, `EXT...` experiment template ids.
"""

from __future__ import annotations

from datetime import datetime, timezone

from infra.engine.aws_data import Answer, Context

_EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _stamp(c: Context) -> str:
    """A stream label (ISO time to the millisecond), reproducible from the digest."""
    seconds = int(c.digest[:8], 16) % (365 * 86400)
    return datetime.fromtimestamp(_EPOCH.timestamp() + seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000")


def _table(c: Context) -> str:
    name = str(c.get("name"))
    arn = c.arn("dynamodb", f"table/{name}")
    c.outputs.update(arn=arn, streamArn=f"{arn}/stream/{_stamp(c)}" if c.get("streamEnabled") else "",
                     streamLabel=_stamp(c) if c.get("streamEnabled") else "",
                     replicas=[{**r, "arn": arn.replace(f":{c.region}:", f":{r['regionName']}:"),
                                "streamArn": f"{arn.replace(f':{c.region}:', ':' + r['regionName'] + ':')}/stream/{_stamp(c)}"}
                               for r in c.inputs.get("replicas") or []])
    return name


def _table_item(c: Context) -> str:
    return f"{c.inputs['tableName']}|{c.digest[:16]}"


def _queue(c: Context) -> str:
    name = str(c.get("name"))
    url = f"https://sqs.{c.region}.amazonaws.com/{c.account}/{name}"
    c.outputs.update(arn=c.arn("sqs", name), url=url)
    return url


def _function(c: Context) -> str:
    name = str(c.get("name"))
    arn = c.arn("lambda", f"function:{name}")
    # A published function's first version is 1 (Lambda@Edge associations need a numbered version).
    version = "1" if c.inputs.get("publish") else "$LATEST"
    c.outputs.update(arn=arn, invokeArn=f"arn:aws:apigateway:{c.region}:lambda:path/2015-03-31/functions/{arn}/invocations",
                     qualifiedArn=f"{arn}:{version}", version=version, sourceCodeHash=c.digest[:44],
                     lastModified=f"{_stamp(c)}+0000")
    return name


def _rule(c: Context) -> str:
    name = str(c.get("name"))
    c.outputs["arn"] = c.arn("events", f"rule/{name}")
    return name


def _target(c: Context) -> str:
    target_id = str(c.get("targetId") or f"{c.name}-{c.digest[:8]}")
    c.outputs["targetId"] = target_id
    return f"default/{c.inputs['rule']}/{target_id}"


def _experiment_template(c: Context) -> str:
    template_id = f"EXT{c.digest[:14].upper()}"
    c.outputs["arn"] = c.arn("fis", f"experiment-template/{template_id}")
    return template_id


ANSWERS: dict[str, Answer] = {
    "aws:dynamodb/table:Table": _table,
    "aws:dynamodb/tableItem:TableItem": _table_item,
    "aws:sqs/queue:Queue": _queue,
    "aws:lambda/function:Function": _function,
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": lambda c: str(c.inputs["functionName"]),
    "aws:lambda/permission:Permission": lambda c: str(c.get("statementId") or f"{c.name}-{c.digest[:8]}"),
    "aws:cloudwatch/eventRule:EventRule": _rule,
    "aws:cloudwatch/eventTarget:EventTarget": _target,
    "aws:fis/experimentTemplate:ExperimentTemplate": _experiment_template,
}
