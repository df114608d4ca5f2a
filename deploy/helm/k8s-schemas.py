#!/usr/bin/env python3
"""Lays out Kubernetes JSON schemas for kubeconform from the PyPI package
kubernetes-validate, which ships them for each Kubernetes minor version.

    k8s-schemas.py KUBERNETES_VERSION OUT_DIR

writes OUT_DIR/v<version>-standalone-strict/<kind>-<group>-<version>.json
(kubeconform's default file layout; pass
-schema-location 'OUT_DIR/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json').

The package's schemas point into one _definitions.json through absolute
references under https://kubernetes.io/api/, which kubeconform would try to
download; here every schema gets its own copy of the definitions it
reaches, so each file stands alone and validation needs no network.
kubernetes-validate must be importable by the Python running this script.
"""
import json
import os
import sys

import kubernetes_validate

REF_PREFIX = "/api/_definitions.json#/$defs/"


def main():
    version, out = sys.argv[1], sys.argv[2]
    src = os.path.join(os.path.dirname(kubernetes_validate.__file__), "kubernetes-json-schema", "v%s-local-strict" % version)
    if not os.path.isdir(src):
        have = sorted(os.listdir(os.path.dirname(src)))
        sys.exit("kubernetes-validate %s has no schemas for Kubernetes %s; it has: %s" % (kubernetes_validate.__version__ if hasattr(kubernetes_validate, "__version__") else "", version, " ".join(have)))
    with open(os.path.join(src, "_definitions.json")) as f:
        defs = json.load(f)["$defs"]
    dst = os.path.join(out, "v%s-standalone-strict" % version)
    os.makedirs(dst, exist_ok=True)
    count = 0
    for name in sorted(os.listdir(src)):
        if not name.endswith(".json") or name.startswith("_") or name == "all.json":
            continue
        with open(os.path.join(src, name)) as f:
            schema = json.load(f)
        schema.pop("$id", None)
        needed = {}
        pending = list(refs(schema))
        while pending:
            d = pending.pop()
            if d in needed:
                continue
            needed[d] = defs[d]
            pending.extend(refs(defs[d]))
        schema["$defs"] = needed
        with open(os.path.join(dst, name), "w") as f:
            json.dump(rewrite(schema), f)
        count += 1
    print("%d schemas for Kubernetes %s in %s" % (count, version, dst))


def refs(node):
    if isinstance(node, dict):
        r = node.get("$ref")
        if isinstance(r, str):
            for prefix in (REF_PREFIX, "#/$defs/"):
                if r.startswith(prefix):
                    yield r[len(prefix):]
        for v in node.values():
            yield from refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from refs(v)


def rewrite(node):
    if isinstance(node, dict):
        return {k: ("#/$defs/" + v[len(REF_PREFIX):] if k == "$ref" and isinstance(v, str) and v.startswith(REF_PREFIX) else rewrite(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [rewrite(v) for v in node]
    return node


if __name__ == "__main__":
    main()
