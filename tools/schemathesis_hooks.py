"""Schemathesis hooks for atende (loaded by tools/schemathesis.sh).

A listing's ``cursor`` (``format: cursor`` in the OpenAPI document) is opaque: only a page
the server returned can give one. Generated positive cases send an empty cursor, which
the API reads as the first page; a cursor the server never issued is answered 400
``invalid_cursor``, which the API tests assert (``bad_input_gets_a_clear_json_error``).
"""

import schemathesis
from hypothesis import strategies as st

schemathesis.openapi.format("cursor", st.just(""))
