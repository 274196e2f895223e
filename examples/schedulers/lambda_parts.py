"""AWS Lambda handlers for a kms-rotation scan split over a Step Functions Map state
(step-functions.asl.json): `scan_part` scans one part and stores its report, `merge_parts` merges
every part of the run into one report.

The function's package holds `kms_rotation` (pip install it into the deployment package or a
layer); its role has the policy of `kms-rotation iam-policy --read-only`, and may write and read
the reports' location. Reports go to `s3://BUCKET/PREFIX/` (boto3, in the Lambda runtime) or,
for a local try, a `file://` folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import kms_rotation


def scan_part(event: dict[str, Any], context: object = None) -> dict[str, Any]:
    """Event: `{"part": NAME, "now": RFC3339, "reports": URL, "scan": {scan options}}`, where
    every part of a run has the same `now` and `reports`. Returns the part's summary."""
    options = {**event.get("scan", {}), "now": event["now"]}
    report = kms_rotation.scan(**options)
    _store(event["reports"], f"part-{event['part']}.json", report.to_json())
    return {"part": event["part"], "compliant": report.summary.compliant,
            "complete": report.summary.complete}


def merge_parts(event: dict[str, Any], context: object = None) -> dict[str, Any]:
    """Event: `{"reports": URL}` (the Map state's input). Merges every `part-*.json` there into
    `report.json`, refused if the parts overlap or disagree; returns the merged summary."""
    parts = [kms_rotation.Report.from_json(text) for text in _load_parts(event["reports"])]
    report = kms_rotation.merge(reports=parts)
    _store(event["reports"], "report.json", report.to_json())
    return {"compliant": report.summary.compliant, "complete": report.summary.complete,
            "findings": report.summary.total}


def _store(location: str, name: str, text: str) -> None:
    url = urlparse(location)
    if url.scheme == "file":
        Path(url.path, name).write_text(text)
        return
    import boto3  # in the Lambda runtime

    key = f"{url.path.strip('/')}/{name}".lstrip("/")
    boto3.client("s3").put_object(Bucket=url.netloc, Key=key, Body=text.encode())


def _load_parts(location: str) -> list[str]:
    url = urlparse(location)
    if url.scheme == "file":
        return [p.read_text() for p in sorted(Path(url.path).glob("part-*.json"))]
    import boto3

    s3 = boto3.client("s3")
    prefix = f"{url.path.strip('/')}/part-".lstrip("/")
    texts = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=url.netloc, Prefix=prefix):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=url.netloc, Key=item["Key"])["Body"].read()
            texts.append(body.decode())
    return texts
