"""Where the project's pieces are and what the offline stack calls things:
the repository, the built binaries, the region and account moto uses, and the
names of the functions, bucket, topic and state machine of template.yaml."""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
MOTO_ACCOUNT = "123456789012"
FUNCTIONS = ("deploy-trigger", "deploy-campaign", "campaign-status")
STATE_MACHINE_NAME = "personalize-deployer-deployment"
TOPIC_NAME = "personalize-deployer-notifications"
BUCKET = "personalize-deployer-manifests"


def target_dir():
    return Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))


def binary(name, profile="debug"):
    path = target_dir() / profile / name
    if not path.exists():
        how = ("`cargo build --workspace --tests` (what ./scripts/test and ./scripts/local-run build)"
               if profile == "debug" else "./benchmarks/run")
        raise FileNotFoundError(f"{path} is missing: build it with {how}")
    return path


def function_arn(name):
    return f"arn:aws:lambda:{REGION}:{MOTO_ACCOUNT}:function:{name}"
