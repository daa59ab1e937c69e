#!/usr/bin/env python3
"""Turns one version of a CustomResourceDefinition into a JSON schema (draft 7) for check-jsonschema.

    crd-to-jsonschema.py CRD.yaml VERSION SOURCE > schema.json

The CRD's openAPIV3Schema is already nearly JSON schema. What the API server does beyond it is made
explicit here, so that the file fails where `kubectl apply` would:
- apiVersion and kind must be the CRD's group/version and kind, metadata.name must be there;
- an object with properties takes no others (kubectl's strict field validation rejects unknown
  fields), unless it says x-kubernetes-preserve-unknown-fields;
- nullable: true admits null.
x-kubernetes-int-or-string nodes already carry anyOf integer/string; other x-kubernetes-* keys and
int32/int64 formats are annotations a JSON schema validator ignores.
"""

import json
import sys

import yaml


def strict(node):
    """The schema node with the API server's rules written out, recursively."""
    if isinstance(node, list):
        return [strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: strict(value) for key, value in node.items()}
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    if out.pop("nullable", False) and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


def main():
    path, version, source = sys.argv[1:4]
    with open(path, encoding="utf-8") as f:
        crd = yaml.safe_load(f)
    spec = crd["spec"]
    (served,) = [v for v in spec["versions"] if v["name"] == version]
    schema = strict(served["schema"]["openAPIV3Schema"])
    schema["properties"]["apiVersion"] = {"const": f"{spec['group']}/{version}"}
    schema["properties"]["kind"] = {"const": spec["names"]["kind"]}
    schema["properties"]["metadata"] = {
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"type": "string", "minLength": 1}},
    }
    schema["required"] = sorted(set(schema.get("required", [])) | {"apiVersion", "kind", "metadata"})
    out = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$comment": (
            f"{spec['names']['kind']} {spec['group']}/{version}, derived by ci/schemas/crd-to-jsonschema.py "
            f"from {source}. Do not edit: generate it again."
        ),
        **schema,
    }
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
