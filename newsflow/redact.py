"""Credentials never leave the input: `user:password@` in a URL is masked before it is stored.

Article URLs sometimes come with credentials (`https://user:secret@host/page`, a
crawler's login, a token used as a user name). The lake is read by other teams, so
every URL stored and every quarantine detail that may quote input passes through
here first. The mask keeps the URL usable (scheme, host, path stay) and says that
something was removed.
"""

from __future__ import annotations

import re

MASK = "***"
# `//userinfo@` at the start of a URL, with or without a scheme. The authority runs to
# the first "/", "?" or "#" and its user info to the last "@" in it, as urllib splits
# it: in `//user:p@ss@host` the password is `p@ss`, and all of it goes.
_URL_USERINFO = re.compile(r"^(?P<start>\s*(?:[A-Za-z][A-Za-z0-9+.\-]*:)?//)[^/?#]*@")
# The same anywhere in running text, where a URL also ends at white space.
_TEXT_USERINFO = re.compile(r"(?P<start>(?:\b[A-Za-z][A-Za-z0-9+.\-]*:)?//)[^/?#\x20\t\n\r\f\v]*@")


def redact_credentials(text: str) -> str:
    """`text` with the user-info part of every URL in it replaced by the mask."""
    return _TEXT_USERINFO.sub(rf"\g<start>{MASK}@", text)


# A bare authority with user info, as HTML extraction reports a page's site name when
# the page names none (trafilatura falls back to the URL's host with its user info).
_AUTHORITY_USERINFO = re.compile(r"^[^\s/?#]*@(?=[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?::\d+)?$)")


def redact_authority(name: str | None) -> str | None:
    """`user:password@host` with the user info masked; any other name stays as it is."""
    return None if name is None else _AUTHORITY_USERINFO.sub(f"{MASK}@", name)


def redact_url(url: str | None) -> str | None:
    """A URL without its `user:password@` part (None stays None)."""
    return None if url is None else _URL_USERINFO.sub(rf"\g<start>{MASK}@", url)
