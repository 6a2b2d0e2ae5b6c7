#!/usr/bin/env python3
"""Validates Kubernetes manifests offline: built-in kinds with kubernetes-validate (strict: an
unknown field is an error) against Kubernetes KUBERNETES_VERSION (default 1.37.0); custom
resources against the openAPIV3Schema of their CRD in tests/kubernetes/crds (made strict the
same way: every object schema with properties and no x-kubernetes-preserve-unknown-fields
refuses other fields, as the API server's strict field validation does), with jsonschema.

    python3 tests/kubernetes/validate.py FILE...     exit 0: all valid; 1: the errors, one a line
"""
import glob
import os
import sys

import jsonschema
import kubernetes_validate
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
VERSION = os.environ.get("KUBERNETES_VERSION", "1.37.0")


def strict(schema):
    if isinstance(schema, dict):
        if schema.get("type") == "object" and "properties" in schema \
                and "additionalProperties" not in schema \
                and not schema.get("x-kubernetes-preserve-unknown-fields"):
            schema["additionalProperties"] = False
        for value in schema.values():
            strict(value)
    elif isinstance(schema, list):
        for value in schema:
            strict(value)
    return schema


def crd_schemas():
    schemas = {}
    for path in glob.glob(os.path.join(HERE, "crds", "*.yaml")):
        with open(path) as f:
            for crd in yaml.safe_load_all(f):
                if not crd:
                    continue
                spec = crd["spec"]
                for version in spec["versions"]:
                    key = (f"{spec['group']}/{version['name']}", spec["names"]["kind"])
                    schemas[key] = strict(version["schema"]["openAPIV3Schema"])
    return schemas


def main(files):
    crds = crd_schemas()
    errors = []
    for path in files:
        with open(path) as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        if not docs:
            errors.append(f"{path}: no resource")
        for doc in docs:
            what = f"{path}: {doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
            key = (doc.get("apiVersion"), doc.get("kind"))
            if key in crds:
                validator = jsonschema.Draft7Validator(crds[key])
                for err in sorted(validator.iter_errors(doc), key=lambda e: list(e.path)):
                    errors.append(f"{what}: {'.'.join(map(str, err.path)) or '(root)'}: {err.message}")
                continue
            try:
                kubernetes_validate.validate(doc, VERSION, strict=True)
            except kubernetes_validate.SchemaNotFoundError:
                errors.append(f"{what}: no schema for {key[0]} {key[1]} (Kubernetes {VERSION}, nor a CRD in {HERE}/crds)")
            except kubernetes_validate.ValidationError as err:
                errors.append(f"{what}: {'.'.join(map(str, err.path)) or '(root)'}: {err.message}")
    for line in errors:
        print(line)
    if not errors:
        print(f"{len(files)} files valid against Kubernetes {VERSION} and {len(crds)} CRD schemas")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
