"""The migrations item: plan what the contract needs, then on a scratch database apply
every migration, roll all of them back, apply them again, and compare the result with
the contract. Any refusal on the way is the item's failure, with its message."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from backsmith import api
from backsmith.errors import BacksmithError
from backsmith.verify.done.items import Item, failed, judged

TITLE = "Migrations up, down and up again"
PLAN_MESSAGE = "the contract as built"


def migrations_item(
    contract: str,
    dbml: str | None,
    scratch_url: str,
    migrations: str | None,
) -> Item:
    flags: dict[str, Any] = {"migrations": migrations} if migrations else {}
    started = time.monotonic()

    def run(action: str, to: str | None = None) -> Any:
        return api.migrate(action, contract, dbml, to=to, database_url=scratch_url, **flags)

    try:
        planned = api.migrate("plan", contract, dbml, message=PLAN_MESSAGE, **flags)
        up = run("up")
        run("down", "base")
        again = run("up")
        status = run("check")
    except BacksmithError as error:
        return failed("migrations", TITLE, f"refused: {error}")
    folder = Path(api.migrations_folder(contract, dbml, **flags))
    wrote = [Path(path).name for path in planned.paths]
    revisions = len(list(folder.glob("*.py")))
    evidence = (
        f"{revisions} revision(s) in {folder}"
        + (f", {len(wrote)} planned now ({', '.join(wrote)})" if wrote else "")
        + f"; up to {again.revision}, down to base, up again in "
        f"{time.monotonic() - started:.1f} s; "
        + ("the database matches the contract" if not status.differences else "differs")
    )
    details = [*(f"risk: {risk}" for risk in planned.risks), *status.differences]
    ok = up.revision == again.revision and not status.differences
    return judged("migrations", TITLE, ok, evidence, *details)
