"""The state machine definition, taken from template.yaml (its single source of
truth), with DefinitionSubstitutions replaced by the ARNs given.

    python3 -m workflow.definition > definition.json   # with placeholder ARNs
"""
import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation short-form intrinsics (!Ref, !Sub, ...) as plain data."""


def _intrinsic(loader, tag_suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {tag_suffix: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load_template(path=TEMPLATE):
    return yaml.load(Path(path).read_text(), Loader=_CfnLoader)


def function_timeouts(template=None):
    """Each function's time-out in seconds, by its binary's name, as the
    template sets it (its Globals' otherwise)."""
    template = template or load_template()
    default = template["Globals"]["Function"]["Timeout"]
    return {
        resource["Metadata"]["BuildProperties"]["Binary"]: resource["Properties"].get("Timeout", default)
        for resource in template["Resources"].values()
        if resource.get("Metadata", {}).get("BuildProperties", {}).get("Binary")
    }


def state_machine(template=None):
    template = template or load_template()
    return template["Resources"]["DeploymentStateMachine"]["Properties"]


PLACEHOLDERS = {
    "DeployCampaignFunctionArn": "arn:aws:lambda:us-east-1:111122223333:function:deploy-campaign",
    "CampaignStatusFunctionArn": "arn:aws:lambda:us-east-1:111122223333:function:campaign-status",
    "NotificationTopicArn": "arn:aws:sns:us-east-1:111122223333:personalize-deployer-notifications",
    "EventBusName": "default",
    "Partition": "aws",
}


def definition(substitutions=None, template=None):
    """The definition as JSON text, every ${Name} of DefinitionSubstitutions replaced."""
    properties = state_machine(template)
    values = dict(PLACEHOLDERS, **(substitutions or {}))
    declared = set(properties["DefinitionSubstitutions"])
    text = json.dumps(properties["Definition"], indent=2)
    used = set(re.findall(r"\$\{([A-Za-z0-9]+)\}", text))
    missing = used - declared
    if missing:
        raise ValueError(f"the definition uses undeclared substitutions: {sorted(missing)}")
    for name in used:
        text = text.replace("${" + name + "}", values[name])
    return text


if __name__ == "__main__":
    sys.stdout.write(definition() + "\n")
