"""How answers are declared: TypedDicts (plain dicts at run time) that pydantic documents exactly.

Every answer of the API is declared once, as a TypedDict decorated with ``@with_config(EXACT)`` (or a
model with ``model_config = EXACT`` where a model is what is built): the code builds that shape and
``/openapi.json`` is generated from it. ``EXACT`` forbids unknown keys, so the documented schema says
``additionalProperties: false`` and a test validating a real answer against its declaration fails on
any key the declaration does not name.
"""

from pydantic import ConfigDict

EXACT = ConfigDict(extra="forbid")  # answers hold nothing but what they declare
