"""Shorter waits in moto's Step Functions interpreter: Wait states and Retry
intervals scaled by a factor, without changing the state machine definition.

It patches two internals of moto (WaitFunction._wait_interval and the `time`
module the retrier sleeps with). Both are checked before anything is patched,
so that a moto whose internals moved fails loudly, naming the version the
harness is written for, instead of running the waits at full length."""
import importlib
import inspect
import re
import time

import moto

from workflow.harness.names import ROOT

REQUIREMENTS = ROOT / "workflow" / "requirements.txt"
WAIT_MODULE = "moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function"
RETRIER_MODULE = "moto.stepfunctions.parser.asl.component.common.retry.retrier_decl"


class MotoInternalsChanged(RuntimeError):
    """moto no longer has the internals the time scaling patches."""


def pinned_moto_version():
    """The moto version workflow/requirements.txt pins."""
    match = re.search(r"^moto\[server\]==(\S+)", REQUIREMENTS.read_text(), re.MULTILINE)
    return match.group(1) if match else "(no pin found)"


def _changed(what):
    return MotoInternalsChanged(
        f"moto's Step Functions internals changed: {what}; the harness is written for moto "
        f"{pinned_moto_version()} (pinned in {REQUIREMENTS.relative_to(ROOT)}), this is moto {moto.__version__}"
    )


def _import(name):
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise _changed(f"cannot import {name} ({error})") from error


def patched_internals():
    """The two places the scaling patches, checked: (WaitFunction, retrier_decl).
    Raises MotoInternalsChanged when one is missing or has another shape."""
    wait_function = _import(WAIT_MODULE)
    retrier_decl = _import(RETRIER_MODULE)
    wait = getattr(getattr(wait_function, "WaitFunction", None), "_wait_interval", None)
    if not inspect.isfunction(wait):
        raise _changed(f"{WAIT_MODULE}.WaitFunction._wait_interval is missing")
    parameters = list(inspect.signature(wait).parameters)
    if parameters != ["self", "env", "wait_seconds"]:
        raise _changed(f"WaitFunction._wait_interval takes {parameters}, not [self, env, wait_seconds]")
    if "env.program_state_event.wait(" not in inspect.getsource(wait):
        raise _changed("WaitFunction._wait_interval no longer waits on env.program_state_event")
    if getattr(retrier_decl, "time", None) is not time:
        raise _changed(f"{RETRIER_MODULE} has no `time` module to replace")
    if "time.sleep(" not in inspect.getsource(retrier_decl):
        raise _changed(f"{RETRIER_MODULE} no longer sleeps with time.sleep")
    return wait_function.WaitFunction, retrier_decl


class ShortWaits:
    """Scales moto's Wait states and Retry intervals by `scale` while active;
    `waited` lists the Wait states' full-length seconds."""

    def __init__(self, scale):
        self.scale = scale

    def __enter__(self):
        wait_function_class, retrier_decl = patched_internals()
        scale = self.scale
        self.waited = []
        waited = self.waited

        def wait_interval(_self, env, wait_seconds):
            waited.append(wait_seconds)
            if wait_seconds > 0:
                env.program_state_event.wait(wait_seconds * scale)

        class ScaledTime:
            def __getattr__(self, name):
                return getattr(time, name)

            @staticmethod
            def sleep(seconds):
                time.sleep(seconds * scale)

        self._originals = (wait_function_class, wait_function_class._wait_interval, retrier_decl, retrier_decl.time)
        wait_function_class._wait_interval = wait_interval
        retrier_decl.time = ScaledTime()
        return self

    def __exit__(self, *exc):
        wait_function_class, wait, retrier_decl, retrier_time = self._originals
        wait_function_class._wait_interval = wait
        retrier_decl.time = retrier_time
