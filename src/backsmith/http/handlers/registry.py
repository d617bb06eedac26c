"""The one registry of handlers: each kind of operation and the handler that executes it.

A new kind is one handler module and one line here.
"""

from __future__ import annotations

from backsmith.http.handlers.changes import (
    handle_create,
    handle_delete,
    handle_replace,
    handle_update,
)
from backsmith.http.handlers.custom import handle_custom
from backsmith.http.handlers.links import handle_link, handle_unlink
from backsmith.http.handlers.listing import handle_list
from backsmith.http.handlers.reads import handle_read
from backsmith.http.pipeline import Handler
from backsmith.model.types import Kind
from backsmith.security.account_handlers import ACCOUNT_HANDLERS

HANDLERS: dict[Kind, Handler] = {
    Kind.LIST: handle_list,
    Kind.CREATE: handle_create,
    Kind.READ: handle_read,
    Kind.REPLACE: handle_replace,
    Kind.UPDATE: handle_update,
    Kind.DELETE: handle_delete,
    Kind.LINK: handle_link,
    Kind.UNLINK: handle_unlink,
    Kind.CUSTOM: handle_custom,
    **ACCOUNT_HANDLERS,
}


def handler_for(kind: Kind) -> Handler:
    """The handler of operations of `kind`."""
    return HANDLERS[kind]
