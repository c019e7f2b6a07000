"""The offline engine: evaluate a stack of this project in-process, without a cloud.

It runs the real program (`infra.program.main`) under a recording mock monitor with
the stack's config read from its `Pulumi.<stack>.yaml`, exactly as `pulumi up` would
hand it over, and returns the recorded `StackPlan`. A stack's StackReferences to
earlier stacks are answered with those stacks' recorded outputs, so the engine plans
a stack's peers first. The plan command, the tests and the policy runner all use it.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import contextvars
import copy
import json
import logging
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable, Optional

from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.mocks import MockEngine
from pulumi.runtime.stack import run_in_stack

from infra.config import deploy_order, load_stack
from infra.domain.problems import ConfigError
from infra.engine.cloud import OFFLINE_ACCOUNT_ID, ORGANIZATION, OfflineCloud
from infra.engine.monitor import RecordingMonitor
from infra.engine.plan import StackPlan, dependency_order
from infra.config.stackfiles import Project

Program = Callable[[Path], None]


def _default_program(project_dir: Path) -> None:
    from infra.program import main

    main(project_dir)


class _DiagnosticsEngine(MockEngine):
    """Keeps what the program logs at warning level and above."""

    def __init__(self, sink: list[str]):
        super().__init__(logging.getLogger("infra.engine"))
        self._sink = sink

    def Log(self, request):
        from pulumi.runtime.proto import engine_pb2

        if request.severity in (engine_pb2.WARNING, engine_pb2.ERROR):
            self._sink.append(request.message)
        return super().Log(request)


def _denied_default_providers(config: dict[str, str]) -> frozenset[str]:
    """The packages `pulumi:disable-default-providers` lists, as the real engine reads them."""
    raw = config.get("pulumi:disable-default-providers", "[]")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = [raw]
    return frozenset(str(v) for v in (value if isinstance(value, list) else [value]))


# Plans of the project's own program, by the content of the project's Pulumi files: a
# process that plans an unchanged project again (the test suite does, through the CLI)
# evaluates each stack once. Bounded; a plan is only read once it is made.
_PLAN_CACHE: "OrderedDict[tuple, StackPlan]" = OrderedDict()
_PLAN_CACHE_SIZE = 64


class Engine:
    """Plans the stacks of one project directory; each stack is evaluated at most once."""

    def __init__(self, project_dir: Path | str, *, account_id: str = OFFLINE_ACCOUNT_ID,
                 deployed: Optional[dict[str, dict[str, Any]]] = None, program: Program = _default_program,
                 use_cache: bool = True):
        self.project = Project(Path(project_dir).resolve())
        self.account_id = account_id
        # Outputs of stacks taken as already deployed: their references read these
        # instead of an offline evaluation (used to model a drifted or older deployment).
        self._deployed = dict(deployed or {})
        self._program = program
        self._use_cache = use_cache
        self._plans: dict[str, StackPlan] = {}
        self._in_progress: set[str] = set()

    def deploy_order(self) -> list[str]:
        return deploy_order(self.project)

    def has_plan(self, stack: str) -> bool:
        """Whether `stack` was already evaluated by this engine."""
        return stack in self._plans

    def plan_all(self) -> list[StackPlan]:
        return [self.plan(stack) for stack in self.deploy_order()]

    def plan(self, stack: str) -> StackPlan:
        if stack not in self._plans:
            if stack in self._in_progress:
                # Unreachable with valid config (peers deploy strictly earlier); kept as a guard.
                raise RuntimeError(f"stack {stack!r} is its own (indirect) peer")
            self._in_progress.add(stack)
            try:
                for peer in self._peers_of(stack):
                    if peer not in self._deployed:
                        self.plan(peer)
                key = self._cache_key(stack)
                if key is not None and key in _PLAN_CACHE:
                    _PLAN_CACHE.move_to_end(key)
                    self._plans[stack] = _PLAN_CACHE[key]
                else:
                    self._plans[stack] = self._evaluate(stack)
                    if key is not None:
                        _PLAN_CACHE[key] = self._plans[stack]
                        while len(_PLAN_CACHE) > _PLAN_CACHE_SIZE:
                            _PLAN_CACHE.popitem(last=False)
            finally:
                self._in_progress.discard(stack)
        return self._plans[stack]

    @functools.cached_property
    def _files_digest(self) -> str:
        digest = hashlib.sha256()
        for path in sorted(self.project.directory.glob("Pulumi*.yaml")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        return digest.hexdigest()

    def _cache_key(self, stack: str) -> Optional[tuple]:
        """Only the project's own program over its own files is shared between engines."""
        if not self._use_cache or self._program is not _default_program or self._deployed:
            return None
        return (str(self.project.directory), self._files_digest, self.account_id, stack)

    def _peers_of(self, stack: str) -> list[str]:
        """Peers to plan first; none when the stack's config is invalid (the program reports it)."""
        try:
            return list(load_stack(self.project, stack).peers)
        except ConfigError:
            return []

    def _stack_outputs(self, reference: str) -> dict[str, Any]:
        """What a StackReference reads: the stack's outputs, its secret ones still secret."""
        stack = reference.rsplit("/", 1)[-1]
        if stack in self._deployed:
            return copy.deepcopy(self._deployed[stack])
        plan = self._plans.get(stack)
        return copy.deepcopy(plan.root.outputs) if plan is not None else {}

    def _evaluate(self, stack: str) -> StackPlan:
        # What the CLI checks before it starts the program: declared keys set, types right.
        problems = self.project.cli_problems(stack)
        if problems:
            raise ConfigError(problems)
        stack_file = self.project.stack_file(stack)
        project_name = self.project.name
        cloud = OfflineCloud(self.account_id, stack_outputs=self._stack_outputs)
        monitor = RecordingMonitor(cloud, _denied_default_providers(stack_file.config))
        diagnostics: list[str] = []

        def run() -> None:
            settings = pulumi_settings.Settings(
                project=project_name, stack=stack, monitor=monitor, engine=_DiagnosticsEngine(diagnostics),
                dry_run=False, organization=ORGANIZATION, root_directory=str(self.project.directory))
            settings.monitor_features = set(monitor.GetDeploymentInfo(None).supportedFeatures)
            pulumi_settings.configure(settings)
            pulumi_settings.ROOT.set(None)
            set_all_config(dict(stack_file.config), sorted(stack_file.secret_keys))
            loop = asyncio.new_event_loop()
            # Once an evaluation fails, the outputs that depended on the failure hold
            # exceptions nobody awaits; keep those reports with the plan instead of stderr.
            loop.set_exception_handler(lambda _loop, context: diagnostics.append(str(context.get("exception")
                                                                                     or context["message"])))
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(run_in_stack(lambda: self._program(self.project.directory)))
            finally:
                loop.close()
                asyncio.set_event_loop(None)

        try:
            # A copied context keeps each evaluation's runtime settings to itself.
            contextvars.copy_context().run(run)
        except ConfigError as exc:
            plan = StackPlan(project_name, stack, dependency_order(monitor.records), diagnostics)
            exc.declared = [r.urn for r in plan.managed()]
            raise
        # What this stack read from earlier stacks' stand-ins is a stand-in here too.
        read = {value for peer in self._peers_of(stack) if peer in self._plans for value in self._plans[peer].stand_ins}
        return StackPlan(project_name, stack, dependency_order(monitor.records), diagnostics,
                         frozenset(cloud.invented | read))



