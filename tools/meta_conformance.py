#!/usr/bin/env python3
"""Checks request bodies against Meta's published OpenAPI document of the WhatsApp
Business Platform (shared/testkit/fixtures/meta-openapi).

Reads {"sends": [{"name", "body"}], "creations": [{"name", "body"}]} on stdin (printed by
`cargo run -p atende-providers --example meta_bodies`): each send is checked against the
`Message` schema its `type` maps to, each template creation against the request body of
`POST /{WABA-ID}/message_templates`. Exits non-zero, naming each failure, if any body
does not conform.

The document is read as OpenAPI tools read it, which plain JSON Schema does not:
1. `allOf` parts are merged into one object before `additionalProperties: false` applies
   (read literally, every message schema forbids `to` and `messaging_product`, and 47 of
   the document's own 50 send examples fail);
2. a `discriminator`'s mapping picks the schema its property names;
3. the button `index` pattern `^[2-6, 11-14]$` (a character class that refuses "0") is
   read as its description says: a position 0-9;
4. the copy-code button, in Meta's template guides but absent from the document, is added:
   `sub_type: copy_code` with a `{"type": "coupon_code", "coupon_code": <= 15 chars}`
   parameter.
The same reading is applied to the document's own send examples and the count that pass
is printed, as a check on the reading.
"""
import copy
import json
import pathlib
import sys

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ROOT = pathlib.Path(__file__).resolve().parent.parent
SPEC = ROOT / "shared/testkit/fixtures/meta-openapi/business-messaging-api_v23.0.yaml"


def load():
    doc = yaml.safe_load(SPEC.read_text())
    schemas = doc["components"]["schemas"]
    # Reading 4: the copy-code button.
    schemas["CouponCodeParameter"] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["type", "coupon_code"],
        "properties": {"type": {"const": "coupon_code"}, "coupon_code": {"type": "string", "maxLength": 15}},
    }
    button_parameter = schemas["ButtonParameterObject"]
    button_parameter["properties"]["type"]["enum"].append("coupon_code")
    button_parameter["discriminator"]["mapping"]["coupon_code"] = "#/components/schemas/CouponCodeParameter"
    for name in ("TemplateComponent", "ButtonComponent"):
        holder = schemas[name] if "properties" in schemas[name] else schemas[name]["allOf"][1]
        holder["properties"]["sub_type"]["enum"].append("copy_code")
        # Reading 3.
        holder["properties"]["index"]["pattern"] = "^[0-9]$"

    def deref(s):
        while isinstance(s, dict) and s.get("$ref", "").startswith("#/components/schemas/"):
            s = schemas[s["$ref"].rsplit("/", 1)[1]]
        return s

    def flatten(s):
        # Reading 1.
        if not isinstance(s, dict) or "allOf" not in s:
            return s
        out = {k: v for k, v in s.items() if k != "allOf"}
        props, required, closed = {}, [], False
        for part in s["allOf"]:
            p = flatten(deref(part))
            for k, v in p.items():
                if k == "properties":
                    for name, schema in v.items():
                        props[name] = {"allOf": [props[name], schema]} if name in props else schema
                elif k == "required":
                    required += [r for r in v if r not in required]
                elif k == "additionalProperties":
                    closed = closed or v is False
                elif k != "discriminator":
                    out.setdefault(k, v)
        out["properties"] = props
        if required:
            out["required"] = required
        if closed:
            out["additionalProperties"] = False
        return out

    originals = copy.deepcopy(schemas)
    for name in list(schemas):
        schemas[name] = flatten(originals[name])

    # Reading 2: each discriminator's mapping, as if/then on the named property.
    for name, s in schemas.items():
        d = originals[name].get("discriminator")
        if not d or "mapping" not in d:
            continue
        prop = d["propertyName"]
        s.pop("oneOf", None)
        s.pop("discriminator", None)
        s["allOf"] = [
            {"if": {"properties": {prop: {"const": key}}, "required": [prop]}, "then": {"$ref": target}}
            for key, target in d["mapping"].items()
        ]
    registry = Registry().with_resource("urn:meta", Resource.from_contents(doc, default_specification=DRAFT202012))
    return doc, registry


def validator(registry, pointer):
    return Draft202012Validator({"$ref": "urn:meta#" + pointer}, registry=registry)


def errors(v, body):
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in v.iter_errors(body)]


def main():
    doc, registry = load()
    send = validator(registry, "/components/schemas/Message")
    creation = validator(
        registry,
        "/paths/~1{Version}~1{WABA-ID}~1message_templates/post/requestBody/content/application~1json/schema",
    )
    examples = doc["paths"]["/{Version}/{Phone-Number-ID}/messages"]["post"]["requestBody"]["content"][
        "application/json"
    ]["examples"]
    own = sum(1 for e in examples.values() if not errors(send, e["value"]))
    print(f"reading check: {own} of {len(examples)} of the document's own send examples conform")

    bodies = json.load(sys.stdin)
    failures = []
    for kind, v in (("sends", send), ("creations", creation)):
        for item in bodies[kind]:
            problems = errors(v, item["body"])
            status = "ok" if not problems else "FAILS"
            print(f"{status:5} {kind[:-1]} {item['name']}")
            failures += [f"{item['name']}: {p}" for p in problems]
    if not bodies["sends"] or not bodies["creations"]:
        failures.append("no bodies to check")
    for f in failures:
        print("  " + f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
