"""cxpulse: what customers said on every channel, and how well the company answered."""

import sys

# jsonschema (under Altair, nbformat and nbconvert) imports the optional rfc3987-syntax when
# it is installed (jupyterlab brings it), which builds a grammar for 0.8 to 1.5 s at every
# start, in the command and in every report kernel; no schema we validate uses the IRI
# formats it checks. Marking it absent makes jsonschema skip those two formats.
sys.modules.setdefault("rfc3987_syntax", None)

__version__ = "0.1.0"
