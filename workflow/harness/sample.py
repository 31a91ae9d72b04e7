"""The movies sample that the scenarios, the local run and the benchmarks
deploy, the same as personalize-local's own (`personalize_local::sample`):
the solution `movies` with two ACTIVE versions, an older one and the latest,
in the default partition, region and account."""
import copy

from workflow.harness.names import REGION

ACCOUNT = "111122223333"
SOLUTION = f"arn:aws:personalize:{REGION}:{ACCOUNT}:solution/movies"
# Trained two hours ago.
SV1 = SOLUTION + "/1a2b3c4d"
# Trained a minute ago: what `$LATEST` resolves to.
SV2 = SOLUTION + "/5e6f7a8b"

_VERSIONS = {
    "solutions": [{"name": "movies"}],
    "solutionVersions": [
        {"solution": "movies", "id": "1a2b3c4d", "ageSeconds": 7200},
        {"solution": "movies", "id": "5e6f7a8b", "ageSeconds": 60},
    ],
}


def campaign_arn(name):
    return f"arn:aws:personalize:{REGION}:{ACCOUNT}:campaign/{name}"


def seed(*campaigns):
    """personalize-local's seed document: the sample and these campaigns."""
    data = copy.deepcopy(_VERSIONS)
    data["campaigns"] = list(campaigns)
    return data
