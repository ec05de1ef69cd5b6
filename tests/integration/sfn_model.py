"""The Step Functions API model for Debian's AWS CLI and boto3, brought up to date.

Debian 12 ships botocore 1.29 (2022), whose stepfunctions model has no versions, aliases,
RedriveExecution or TestState. sfn_model_additions.json beside this file holds what AWS's model
added since; this module merges it into the installed model and writes the result where botocore
looks for models first (AWS_DATA_PATH), as `aws configure add-model` does for a user whose CLI is
older than the API.

Usage: /usr/bin/python3 sfn_model.py [--cli] OUT_DIR
  writes OUT_DIR/stepfunctions/2016-11-23/service-2.json (--cli: from the AWS CLI's own botocore)
  and prints its path.
"""
import json
import os
import sys

ADDITIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sfn_model_additions.json")
API_VERSION = "2016-11-23"


def installed_model(cli):
    """The stepfunctions service model that the installed botocore (or the CLI's) loads."""
    if cli:
        from awscli.botocore import loaders  # Debian's awscli carries its own botocore
    else:
        from botocore import loaders
    return loaders.create_loader().load_service_model("stepfunctions", "service-2", API_VERSION)


def merged_model(cli=False):
    model = installed_model(cli)
    with open(ADDITIONS, encoding="utf-8") as f:
        additions = json.load(f)
    model["operations"].update(additions["operations"])
    model["shapes"].update(additions["shapes"])
    return model


def write_model(out_dir, cli=False):
    """Writes the merged model under out_dir (a botocore data path); returns the file's path."""
    target = os.path.join(out_dir, "stepfunctions", API_VERSION)
    os.makedirs(target, exist_ok=True)
    path = os.path.join(target, "service-2.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(merged_model(cli), f)
    return path


if __name__ == "__main__":
    args = sys.argv[1:]
    for_cli = "--cli" in args
    args = [a for a in args if a != "--cli"]
    if len(args) != 1:
        sys.exit(__doc__)
    print(write_model(args[0], for_cli))
