"""Reading a config from a JSON file, refusing what tm_model_new would misread.

The library takes the config as a C string: an empty file would reach it as "" (the
documented spelling of "the defaults") and a NUL byte would end the text early, so
both once trained the default model silently. Both, invalid UTF-8 and a file of only
whitespace raise ConfigError naming the file; the library checks the JSON itself.
"""

import os

from ._lib import TM_ERR_CONFIG, ConfigError


def _error(path, what):
    return ConfigError(f"the config file {os.fspath(path)!r} {what}", TM_ERR_CONFIG, "TM_ERR_CONFIG")


def read_config_file(path):
    """The text of a JSON config file; ConfigError if it cannot be a config."""
    with open(path, "rb") as f:
        data = f.read()
    if not data.strip(b" \t\r\n"):
        raise _error(path, "is empty: a config file holds a JSON object (write {} for the defaults)"
                     if not data else "holds only whitespace, which is not JSON (write {} for the defaults)")
    if b"\0" in data:
        at = data.index(b"\0")
        raise _error(path, f"holds a NUL byte at offset {at}: it is not a JSON text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise _error(path, f"is not UTF-8 text (byte {e.start}): it is not a JSON config") from None
