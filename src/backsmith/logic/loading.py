"""Finding the team's handlers at start-up: imported once, checked to take one argument.

An operation is served by the function its `x-backsmith: {handler: module:function}` names,
or else by the function of the hooks module (`x-backsmith: {hooks: shop.hooks}` at the
root, or BACKSMITH_HOOKS) named as its operationId (`cancelOrder`, or `cancel_order`).
Modules are imported with the contract's folder and the working folder on the path, so
`shop/hooks.py` beside the contract is `shop.hooks`. Anything that cannot be used is a
start-up error naming the contract's line and pointer, or the setting: exit 2.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import sys
from dataclasses import dataclass, replace
from types import ModuleType
from typing import Any

from backsmith.errors import InputError
from backsmith.logic.context import Context, HandlerFunction
from backsmith.model.events import Schedule
from backsmith.model.policies import Handler, Transition
from backsmith.model.types import ACCOUNT_KINDS, Model, Operation
from backsmith.settings import Settings, setting


class HandlerError(InputError):
    """A handler that cannot be imported, or that cannot be called with one context."""


@dataclass(frozen=True, slots=True)
class Bound:
    """An operation's handler, imported."""

    function: HandlerFunction
    name: str  # module:function, as `model` shows it
    is_async: bool


def with_handlers(model: Model, settings: Settings) -> Model:
    """The model with each operation's handler named in its policies, those a hooks module
    serves by operationId too: what `backsmith model` shows."""
    found = load_handlers(model, settings)
    operations = []
    for op in model.operations:
        bound = found.get(op.pointer)
        if bound is not None and op.policies.handler is None and ":" in bound.name:
            module, _, function = bound.name.partition(":")
            op = replace(op, policies=replace(op.policies, handler=Handler(module, function)))
        operations.append(op)
    return replace(model, operations=tuple(operations))


def load_handlers(model: Model, settings: Settings) -> dict[str, Bound]:
    """Operation pointer -> its handler, for every operation that has one."""
    hooks = _hooks_module(settings.hooks, model.path) if settings.hooks else None
    found: dict[str, Bound] = {}
    for op in model.operations:
        declared = op.policies.handler
        if declared is not None:
            found[op.pointer] = _declared(model, op, declared)
        elif op.policies.transition is not None:
            found[op.pointer] = _transition(model, op.policies.transition)
        elif hooks is not None and op.kind not in ACCOUNT_KINDS:
            function = _by_operation_id(hooks, op.operation_id)
            if function is not None:
                name = f"{hooks.__name__}:{getattr(function, '__name__', op.operation_id)}"
                found[op.pointer] = _bound(function, name, lambda why: _setting_error(why))
    return found


def _import(name: str, contract: str) -> ModuleType:
    """The module, found beside the contract or in the working folder too. Only a contract
    that names code of its own puts those folders on the path."""
    for folder in (os.getcwd(), os.path.dirname(os.path.abspath(contract)) if contract else ""):
        if folder and folder not in sys.path:
            sys.path.insert(0, folder)
    return importlib.import_module(name)


def _hooks_module(name: str, contract: str) -> ModuleType:
    try:
        return _import(name.strip(), contract)
    except Exception as error:  # an import runs the team's code: any failure is theirs
        raise _setting_error(f"cannot import {name}: {_reason(error)}") from None


def _setting_error(why: str) -> HandlerError:
    return HandlerError(f"{setting('hooks').env} (or x-backsmith hooks): {why}")


def load_crud_hooks(model: Model) -> dict[str, dict[str, Bound]]:
    """Operation pointer -> its hooks around CRUD writes by moment, for those that have any."""
    return {
        op.pointer: {
            moment: _declared(model, op, handler, where, moment)
            for moment, handler, where in op.hooks
        }
        for op in model.operations
        if op.hooks
    }


def load_table_hooks(model: Model) -> dict[str, dict[str, Bound]]:
    """Table -> its schema's hooks around writes by moment: what the row helpers run."""
    return {
        table: {
            moment: _declared(model, None, handler, where, moment)
            for moment, handler, where in hooks
        }
        for table, hooks in model.table_hooks.items()
    }


def load_schedules(model: Model, settings: Settings) -> list[tuple[Schedule, Bound]]:
    """Each scheduled job with its function: `module:function`, or a hooks module's."""
    found = []
    for schedule in model.events.schedules:
        if ":" in schedule.job:
            module, _, function = schedule.job.partition(":")
            handler = Handler(module, function)
            found.append((schedule, _declared(model, None, handler, schedule.pointer, "job")))
            continue
        if not settings.hooks:
            where = f"{model.path}: error at #{schedule.pointer}"
            raise HandlerError(
                f"{where}: job '{schedule.job}' names no module and no hooks module is set "
                f"({setting('hooks').env} or x-backsmith hooks); write it module:function"
            )
        handler = Handler(settings.hooks.strip(), schedule.job)
        found.append((schedule, _declared(model, None, handler, schedule.pointer, "job")))
    return found


def _declared(
    model: Model,
    op: Operation | None,
    handler: Handler,
    pointer: str = "",
    what: str = "handler",
) -> Bound:
    at = op.pointer if op is not None else ""
    pointer = pointer or f"{at}/x-backsmith/handler"

    def error(why: str) -> HandlerError:
        file, line = model.locations.get(at, (model.path, None))
        if not at or not pointer.startswith(at):  # a schema's hook: its file, not the line
            line = None
        where = f"{file}:{line}" if line is not None else file
        return HandlerError(f"{where}: error at #{pointer}: {what} {handler.describe()} {why}")

    try:
        module = _import(handler.module, model.path)
    except Exception as failure:
        raise error(f"cannot be imported: {_reason(failure)}") from None
    function = getattr(module, handler.function, None)
    if function is None:
        raise error(f"is not defined: {handler.module} has no '{handler.function}'")
    return _bound(function, handler.describe(), error)


def _transition(model: Model, transition: Transition) -> Bound:
    """The built-in handler of `transition: {to: ...}`: move the row the path names, as its
    owner, through the lifecycle rule (a 409 when its state does not allow the move)."""
    resource, to, named = model.resources[transition.resource].name, transition.to, transition.key

    async def transition_to(ctx: Context) -> Any:
        # The row as its item path names it ({slug} -> slug); else the innermost parameter
        # is its key.
        key = {prop: ctx.path[param] for param, prop in named if param in ctx.path}
        return await ctx.rows(resource).move(key or list(ctx.path.values())[-1], to)

    return Bound(transition_to, transition.describe(), True)


def _by_operation_id(module: ModuleType, operation_id: str) -> Any:
    for name in (operation_id, _snake(operation_id)):
        function = getattr(module, name, None)
        if function is not None and callable(function):
            return function
    return None


def _bound(function: Any, name: str, error: Any) -> Bound:
    if not callable(function):
        raise error("is not a function")
    try:
        inspect.signature(function).bind(None)
    except TypeError:
        raise error("must take exactly one argument, the context: def handler(ctx)") from None
    except ValueError:  # a builtin without a signature: trusted to take one argument
        pass
    is_async = inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(
        getattr(function, "__call__", None)  # noqa: B004 - an object with an async __call__
    )
    return Bound(function, name, is_async)


def _reason(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _snake(name: str) -> str:
    return _CAMEL.sub("_", name).replace("-", "_").lower()
