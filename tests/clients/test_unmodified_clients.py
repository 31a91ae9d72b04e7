"""personalize-local works with unmodified clients: boto3 and the AWS CLI.

Run by ./scripts/test with PERSONALIZE_LOCAL_BIN pointing at the built binary.
"""
import json
import os
import subprocess
import time
import urllib.request

import boto3
import pytest
from botocore.exceptions import ClientError

SOLUTION = "arn:aws:personalize:us-east-1:111122223333:solution/movies"
SV1 = SOLUTION + "/1a2b3c4d"
CAMPAIGN = "arn:aws:personalize:us-east-1:111122223333:campaign/movie-recs"
ENV = dict(
    os.environ,
    AWS_ACCESS_KEY_ID="test",
    AWS_SECRET_ACCESS_KEY="test",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_EC2_METADATA_DISABLED="true",
    AWS_PAGER="",
)


@pytest.fixture()
def endpoint():
    binary = os.environ.get("PERSONALIZE_LOCAL_BIN", "target/debug/personalize-local")
    proc = subprocess.Popen([binary, "--port", "0", "--speed", "600"], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        url = line.split(" listening on ")[1].split()[0]
        seed = {"solutions": [{"name": "movies"}], "solutionVersions": [{"solution": "movies", "id": "1a2b3c4d"}]}
        request = urllib.request.Request(url + "/_personalize-local/seed", data=json.dumps(seed).encode(), method="POST")
        urllib.request.urlopen(request).read()
        yield url
    finally:
        proc.kill()
        proc.wait()


def personalize(url):
    return boto3.client(
        "personalize", endpoint_url=url, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
    )


def test_boto3_creates_waits_lists_and_reads_errors(endpoint):
    client = personalize(endpoint)
    arn = client.create_campaign(
        name="movie-recs", solutionVersionArn=SV1, minProvisionedTPS=2,
        campaignConfig={"itemExplorationConfig": {"explorationWeight": "0.3"}},
        tags=[{"tagKey": "team", "tagValue": "recs"}],
    )["campaignArn"]
    assert arn == CAMPAIGN
    campaign = client.describe_campaign(campaignArn=arn)["campaign"]
    assert campaign["status"] in ("CREATE PENDING", "CREATE IN_PROGRESS")
    assert campaign["creationDateTime"].tzinfo is not None  # epoch seconds parsed by botocore
    deadline = time.time() + 20
    while client.describe_campaign(campaignArn=arn)["campaign"]["status"] != "ACTIVE":
        assert time.time() < deadline
        time.sleep(0.1)
    pages = client.get_paginator("list_campaigns").paginate(solutionArn=SOLUTION)
    assert [c["name"] for page in pages for c in page["campaigns"]] == ["movie-recs"]
    with pytest.raises(ClientError) as caught:
        client.create_campaign(name="movie-recs", solutionVersionArn=SV1)
    assert caught.value.response["Error"]["Code"] == "ResourceAlreadyExistsException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert caught.value.response["ResponseMetadata"]["RequestId"]
    with pytest.raises(client.exceptions.InvalidInputException):
        client.create_campaign(name="x" * 64, solutionVersionArn=SV1)
    client.update_campaign(campaignArn=arn, minProvisionedTPS=3)
    update = client.describe_campaign(campaignArn=arn)["campaign"]["latestCampaignUpdate"]
    assert update["minProvisionedTPS"] == 3


def aws(url, *args):
    return subprocess.run(
        ["aws", "personalize", *args, "--endpoint-url", url, "--output", "json"],
        env=ENV, capture_output=True, text=True, timeout=60,
    )


def test_aws_cli_talks_to_it(endpoint):
    out = aws(endpoint, "create-campaign", "--name", "movie-recs", "--solution-version-arn", SV1)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["campaignArn"] == CAMPAIGN
    out = aws(endpoint, "describe-campaign", "--campaign-arn", CAMPAIGN)
    assert json.loads(out.stdout)["campaign"]["name"] == "movie-recs"
    out = aws(endpoint, "describe-campaign", "--campaign-arn", CAMPAIGN + "-nope")
    assert out.returncode != 0
    assert "ResourceNotFoundException" in out.stderr
