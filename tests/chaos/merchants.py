"""The merchant's side of the soak (#24): BackOffice calling ``dayclose api`` (a plan fix, a manual export, a
correction), and the nemesis SIGKILLing the API while it handles a share of those calls. A call is repeated until
it is answered, as a merchant clicks again: every command is safe to repeat (a manual export coalesces, a plan is
a PUT, a second correction of a day being corrected is a 409)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

import httpx

from tests.chaos import world as wl
from tests.chaos.nemesis import Fault, Nemesis
from tests.chaos.stack import Stack
from tests.tokens import bearer


class BackOffice:
    def __init__(
        self,
        stack: Stack,
        world: wl.World,
        seed: int,
        nemesis: Nemesis,
        note: Callable[[str], None],
        supervise: Callable[[], None],
    ) -> None:
        self.stack, self.world, self.seed, self.nemesis = stack, world, seed, nemesis
        self.note, self.supervise = note, supervise
        self.rng = random.Random(f"backoffice/{seed}")

    def call(self, call: wl.ApiCall) -> None:
        """One call, repeated until it is answered; with the nemesis's share, ``dayclose api`` is SIGKILLed while it
        handles the first try."""
        kill = self.rng.random() < self.nemesis.spec.api_kill_share
        for attempt in range(40):
            self.supervise()
            answer = self._killed(call) if kill and attempt == 0 else self._send(call)
            if answer is not None and answer < 500:
                self.note(f"API {call.kind} {call.org}: {answer}")
                return
            time.sleep(min(5.0, 0.25 * (attempt + 1)))
        raise AssertionError(f"API {call} not answered in 40 tries")

    def _killed(self, call: wl.ApiCall) -> int | None:
        api = self.stack.api
        assert api is not None
        answer: list[int | None] = []
        sender = threading.Thread(target=lambda: answer.append(self._send(call)), daemon=True)
        sender.start()
        time.sleep(self.rng.uniform(0.0, 0.08))
        if api.alive:
            api.kill()
            self.nemesis.faults.append(Fault("kill_api", time.time(), time.time(), note=call.kind))
            self.note(f"SIGKILL dayclose api during {call.kind} {call.org}")
        sender.join(30)
        api.start()
        self.stack.wait_api_ready()
        return answer[0] if answer else None

    def _send(self, call: wl.ApiCall) -> int | None:
        base = f"{self.stack.api_url}/v1/organizations/{call.org}/bjorn-lunden"
        headers = bearer(call.org)
        merchant = next(m for m in self.world.merchants if m.org == call.org)
        try:
            if call.kind == "plan_fix":
                return httpx.put(
                    f"{base}/account-plan", json=merchant.final_plan, headers=headers, timeout=30
                ).status_code
            if call.kind == "manual_export":
                return httpx.post(f"{base}/manual-exports", json={}, headers=headers, timeout=30).status_code
            return self._correct(base, headers, call)
        except httpx.HTTPError:
            return None

    def _correct(self, base: str, headers: dict[str, str], call: wl.ApiCall) -> int:
        """Correct one of the organization's booked days, picked by the seed among those booked by now."""
        page = httpx.get(f"{base}/exports", params={"status": "booked", "limit": 200}, headers=headers, timeout=30)
        if page.status_code != 200:
            return page.status_code
        booked = sorted(e["export_id"] for e in page.json()["items"] if e["voucher_number"] is not None)
        if not booked:
            return 204  # nothing booked yet to correct
        chosen = random.Random(f"{self.seed}/{call}").choice(booked)
        body = {"reason": "soak: a correction under faults", "acting_user": "soak"}
        return httpx.post(f"{base}/exports/{chosen}/corrections", json=body, headers=headers, timeout=30).status_code
