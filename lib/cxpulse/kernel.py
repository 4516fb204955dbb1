"""The kernel a report runs on, started ahead of its notebook.

Only ``jupyter_client`` is imported here, so ``cxpulse run`` can start the kernel before
it imports anything heavy: the kernel boots and imports the report library (pandas, Ibis,
Altair: 2 to 3 s) while the command imports papermill, nbconvert and WeasyPrint.
"""

from __future__ import annotations

import ast
import contextlib
import json
import logging
import os
import queue
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from jupyter_client.asynchronous import AsyncKernelClient

if TYPE_CHECKING:
    from jupyter_client import AsyncKernelManager, BlockingKernelClient

log = logging.getLogger("cxpulse.render")

DEFER_SVG = "CXPULSE_DEFER_SVG"
"""Set to "1" in our kernels' environment: their chart renderer (``charts``) leaves the
static SVG out, and the process exporting the report adds it
(``charts.with_static_charts``) while the next notebook runs."""


class PromptClient(AsyncKernelClient):
    """The client papermill's executor makes for our kernels: ready as soon as it is.

    jupyter_client's ``wait_for_ready`` ends by waiting for 0.2 s of silence on IOPub,
    every time. Here a client is ready when a ``kernel_info`` request has its reply on the
    shell channel and its closing "idle" status on IOPub: IOPub is then connected (a
    subscriber that joined too late misses the status, and the request is sent again)
    and holds nothing more of that request."""

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (timeout if timeout is not None else 60)
        while time.monotonic() < deadline:
            msg_id = self.kernel_info()
            try:
                await self._reply_to(self.shell_channel, msg_id, "kernel_info_reply", deadline)
                await self._reply_to(self.iopub_channel, msg_id, "status", deadline, 0.2)
            except queue.Empty:
                if not await self.is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info") from None
                continue
            return
        raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")

    @staticmethod
    async def _reply_to(
        channel: object, msg_id: str, msg_type: str, deadline: float, wait_s: float = 1.0
    ) -> dict:
        """The next ``msg_type`` message answering ``msg_id`` on ``channel`` (a status must
        be "idle"); ``queue.Empty`` when none comes within ``wait_s``."""
        while True:
            left = min(wait_s, deadline - time.monotonic())
            msg = await channel.get_msg(timeout=max(left, 0.0))
            if msg["parent_header"].get("msg_id") != msg_id or msg["msg_type"] != msg_type:
                continue
            if msg_type != "status" or msg["content"].get("execution_state") == "idle":
                return msg


def _not_zmq_context_notice(record: logging.LogRecord) -> bool:
    """False for jupyter_client's "Could not destroy zmq context" warning: papermill's
    client of a kernel it did not start is collected with its channels open; the kernel is
    shut down here all the same, so the warning only adds noise to every run."""
    return not record.getMessage().startswith("Could not destroy zmq context")


logging.getLogger("traitlets").addFilter(_not_zmq_context_notice)


WARM_UP = "__import__('cxpulse.kernel', fromlist=['warm_up']).warm_up()"
"""What a kernel runs as soon as it is up, before the notebook arrives (silently: the
executed notebook does not show it, its cell numbers start at 1 and its namespace is
untouched)."""


class Kernel:
    """A Python kernel started ahead of its notebook, already importing the report library.

    Starting a kernel and importing pandas, Ibis and Altair in it takes 2 to 3 s; started
    first, it does that while this process validates params and imports papermill,
    nbconvert and WeasyPrint. The notebook then runs on it (papermill's ``km``), and the
    report's summary is read from the kernel's own ``Report`` afterwards (``summary``).
    """

    def __init__(self, cwd: Path) -> None:
        from jupyter_client import AsyncKernelManager, BlockingKernelClient
        from jupyter_core.utils import run_sync

        # Talk to it over Unix sockets in a folder only we can open, not over TCP on
        # localhost (which any local user can reach, and which the kernel warns about).
        self.sockets = Path(tempfile.mkdtemp(prefix="cxpulse-kernel-"))
        self.manager: AsyncKernelManager = AsyncKernelManager(
            kernel_name="python3",
            transport="ipc",
            ip=str(self.sockets / "kernel"),
            client_class="cxpulse.kernel.PromptClient",
        )
        # As nbclient starts its kernels: no history file for a batch run.
        run_sync(self.manager.start_kernel)(
            extra_arguments=["--HistoryManager.hist_file=:memory:"],
            cwd=str(cwd),
            env={**os.environ, DEFER_SVG: "1"},  # this process draws the static charts
        )
        self.clients: list[AsyncKernelClient] = []
        """The clients papermill made for this kernel: nbclient stops the channels only of
        kernels it started itself, so each would keep its heartbeat thread, event loop and a
        dozen descriptors for the life of the process (a test session ran out of them)."""
        make_client = self.manager.client

        def client(**kwargs: object) -> AsyncKernelClient:
            made = make_client(**kwargs)
            self.clients.append(made)
            return made

        self.manager.client = client
        self.client: BlockingKernelClient = BlockingKernelClient()
        self.client.load_connection_info(self.manager.get_connection_info())
        self.client.start_channels()
        self.pending: str | None = self.client.execute(WARM_UP, silent=True, store_history=False)
        """The request ``wait_warm`` waits for (the warm-up, or a ``reset``); None when done."""
        self.alive = True

    def wait_warm(self, timeout_s: float) -> None:
        """Block until the kernel has run ``WARM_UP`` (or ``timeout_s`` passed): from then
        on it needs no more CPU until its notebook arrives."""
        if self.pending is not None:
            self._wait_for(self.pending, timeout_s)
            self.pending = None

    def reset(self) -> None:
        """Clear the kernel for its next notebook: IPython's ``%reset -f`` empties the
        namespace (what one notebook defined is gone; imported modules stay loaded) and the
        cell count starts again at 1. ``wait_warm`` waits for it."""
        code = "get_ipython().run_line_magic('reset', '-f'); get_ipython().execution_count = 1"
        self.pending = self.client.execute(code, silent=True, store_history=False)

    def _wait_for(self, msg_id: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            try:
                reply = self.client.get_shell_msg(timeout=left)
            except queue.Empty:
                return
            if reply["parent_header"].get("msg_id") == msg_id:
                return

    def summary(self, cadence: str, label: str, timeout_s: float) -> dict | None:
        """``report.summary(r)`` of the notebook's ``r`` when it is the ``cadence`` report of
        period ``label``, computed in the kernel from the figures it already holds; None
        when the notebook has no such ``r``, or the kernel cannot say."""
        return self.evaluate(
            f"kernel_summary(globals().get('r'), {cadence!r}, {label!r})", timeout_s
        )

    def figures(self, cadence: str, label: str, folder: Path, timeout_s: float) -> dict | None:
        """Write the figures the notebook's ``r`` showed into ``folder`` (figures.xlsx and
        Parquet, ``figures.write_figures``) from the kernel that holds them; what the
        manifest lists, or None when the notebook has no such ``r`` or the kernel cannot
        say."""
        return self.evaluate(
            f"kernel_figures(globals().get('r'), {cadence!r}, {label!r}, {str(folder)!r})",
            timeout_s,
        )

    def evaluate(self, call: str, timeout_s: float) -> dict | None:
        """``call`` of a function of this module, evaluated in the kernel, which returns
        JSON text ('' for nothing): its value, or None."""
        name = call.split("(", 1)[0]
        expression = f"__import__('cxpulse.kernel', fromlist=[{name!r}]).{call}"
        try:
            reply = self.client.execute_interactive(
                "",
                silent=True,
                store_history=False,
                user_expressions={"summary": expression},
                timeout=timeout_s,
                output_hook=lambda msg: None,
            )
        except TimeoutError:
            return None
        value = reply["content"].get("user_expressions", {}).get("summary", {})
        if value.get("status") != "ok":
            log.warning("%s in the kernel failed: %s", name, value.get("evalue", value))
            return None
        text = ast.literal_eval(value["data"]["text/plain"])
        return json.loads(text) if text else None

    def shutdown(self) -> None:
        """Stop the kernel now (it only read the warehouse: nothing to save)."""
        from jupyter_core.utils import run_sync

        if not self.alive:
            return
        self.alive = False
        self.client.stop_channels()
        with contextlib.suppress(Exception):
            run_sync(self.manager.shutdown_kernel)(now=True)
        for client in self.clients:  # nbclient leaves them open on a kernel it did not start
            client.stop_channels()
        shutil.rmtree(self.sockets, ignore_errors=True)


def warm_up() -> None:
    """Run in the kernel before its notebook: import the report library, the collector
    paused. (The chart engine is not started here: these kernels leave static charts to
    the host, ``DEFER_SVG``.)"""
    import gc

    gc.disable()  # imports make many objects and no garbage: 0.15 s of collections saved
    try:
        import ibis.backends.duckdb  # noqa: F401 - loaded by the first query otherwise

        from cxpulse import report  # noqa: F401 - imported to be ready
    finally:
        gc.freeze()  # the library stays for the kernel's life: keep it out of collections
        gc.enable()


def plain(value: object) -> object:
    """JSON fallback for numpy scalars and timestamps."""
    item = getattr(value, "item", None)
    return item() if callable(item) else str(value)


def kernel_summary(r: object, cadence: str, label: str) -> str:
    """Run in the kernel: ``report.summary(r)`` as JSON when ``r`` is the ``cadence``
    report of period ``label``, else ''."""
    from cxpulse import report

    if not isinstance(r, report.Report) or r.cadence != cadence or r.period.label != label:
        return ""
    return json.dumps(report.summary(r), default=plain)


def kernel_figures(r: object, cadence: str, label: str, folder: str) -> str:
    """Run in the kernel: write what ``r`` showed into ``folder`` (``write_figures``) when
    ``r`` is the ``cadence`` report of period ``label``; the manifest entry as JSON, else ''."""
    from cxpulse import figures, report

    if not isinstance(r, report.Report) or r.cadence != cadence or r.period.label != label:
        return ""
    return json.dumps(figures.write_figures(list(r.shown.values()), Path(folder)), default=plain)
