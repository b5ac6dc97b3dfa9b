"""Schemathesis hooks for Cordon's API (loaded by scripts/api-fuzz.sh through SCHEMATHESIS_HOOKS).

The HL7 result upload takes `application/hl7-v2`, which Schemathesis has no serializer for: its
generated strings are sent as the message text, encoded as UTF-8.
"""

import schemathesis


@schemathesis.serializer("application/hl7-v2")
def hl7_v2(ctx, value):
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")
