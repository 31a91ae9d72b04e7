"""The inputs the pipeline is fed: the sample events and manifests of
events/, S3 event notifications announcing an uploaded object, the CloudTrail
event of a CreateSolutionVersion call and the Scheduled Event of a rule."""
import json
import time
import urllib.parse
import uuid
from datetime import datetime, timezone

from workflow.harness.names import ROOT

EVENTS = ROOT / "events"


def sample(name):
    """A sample event of events/, parsed."""
    return json.loads((EVENTS / name).read_text())


def manifest(name):
    """A sample manifest of events/manifests/, as bytes."""
    return (EVENTS / "manifests" / name).read_bytes()


def s3_record(bucket, key, size, etag, version_id=None):
    """An S3 event notification record announcing an object, shaped like
    those of events/s3-notification.json (the key URL-encoded as S3 does)."""
    record = sample("s3-notification.json")["Records"][0]
    record["s3"]["bucket"]["name"] = bucket
    record["s3"]["bucket"]["arn"] = f"arn:aws:s3:::{bucket}"
    record["s3"]["object"] = {
        "key": urllib.parse.quote_plus(key, safe="/"),
        "size": size,
        "eTag": etag,
        "sequencer": f"{time.time_ns():018X}",
    }
    if version_id is not None:
        record["s3"]["object"]["versionId"] = version_id
    return record


def s3_notification(bucket, key, size, etag, version_id=None):
    """An S3 event notification with the one record of `s3_record`."""
    return {"Records": [s3_record(bucket, key, size, etag, version_id)]}


def create_solution_version_call(solution_arn, version_arn, training_mode="FULL", at=None):
    """The "AWS API Call via CloudTrail" event that EventBridge delivers for a
    successful CreateSolutionVersion, shaped like
    events/cloudtrail-create-solution-version.json (the API reference's
    sample): new event and request ids, the call's time, its parameters and the
    new version's ARN."""
    event = sample("cloudtrail-create-solution-version.json")
    when = (at or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
    account, region = solution_arn.split(":")[4], solution_arn.split(":")[3]
    event.update(id=str(uuid.uuid4()), time=when, account=account, region=region)
    detail = event["detail"]
    detail.update(
        eventTime=when, awsRegion=region, recipientAccountId=account,
        requestID=str(uuid.uuid4()), eventID=str(uuid.uuid4()),
        requestParameters={"solutionArn": solution_arn, "trainingMode": training_mode},
        responseElements={"solutionVersionArn": version_arn},
    )
    detail["userIdentity"]["accountId"] = account
    return event


def scheduled_event(rule_arn, time=None):
    """The "Scheduled Event" that EventBridge delivers when the schedule of
    the rule `rule_arn` fires, shaped like events/scheduled-follow.json: a new
    id, the rule's account and region, the rule as its one resource, an empty
    detail, and `time` (a datetime, naive ones taken as UTC; now when
    omitted) to the second in UTC."""
    event = sample("scheduled-follow.json")
    when = time or datetime.now(timezone.utc)
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    when = when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    region, account = rule_arn.split(":")[3], rule_arn.split(":")[4]
    event.update(id=str(uuid.uuid4()), time=when, account=account, region=region, resources=[rule_arn])
    return event
