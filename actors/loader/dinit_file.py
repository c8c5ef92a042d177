"""One dinit service description file -> a `Description` (spec, links, problems).

The order is dinit's (`load_reload_service` and `finalise()` in its load-service code):

1. Read the settings (dinit_syntax) and apply each through its definition in `settings.py`.
   Values that use pre-load substitution (dependency names, `.d` paths, `env-file`, `chain-to`)
   are substituted now, from the supervisor's environment and `$1` only.
2. Build the service's environment: the supervisor's, then the `load-options` variables, then
   the env-file (highest priority).
3. Substitute the load-time values (`command`, `stop-command`, `working-dir`, `logfile`) from it.
4. Finish: defaults, the checks that involve several settings, and dinit's lint warnings.

Every problem is collected (a bad line never hides the next one); the spec is built only if
none of them is an error. No exception escapes `read_dinit_service`.
"""

from __future__ import annotations

import os
import pwd
from typing import Any, Mapping

from actors.loader import settings as S
from actors.loader import values
from actors.loader.description import Description, Link, source_of, with_links
from actors.loader.dinit_syntax import Setting, expand_command, expand_value, read_description
from actors.loader.env_file import Environment, apply, read_env_file
from actors.loader.errors import BadValue, LoadError
from actors.loader.settings import Kind, SettingDef, Subst
from actors.loader.values import Warned
from actors.loader.spec import (
    OPTION_SIGNAL_PROCESS_ONLY, OPTION_SKIPPABLE, OPTION_START_INTERRUPTIBLE, LogType, ReadyKind,
    ServiceSpec, ServiceType, is_valid_service_name,
)

# Options that mean something only for some types (dinit's lint in finalise()).
_OPTION_TYPES = {OPTION_SKIPPABLE: frozenset({ServiceType.SCRIPTED}),
                 OPTION_SIGNAL_PROCESS_ONLY: S.PROCESS_TYPES,
                 OPTION_START_INTERRUPTIBLE: S.PROCESS_TYPES}
_SPEC_FIELDS = frozenset(ServiceSpec.__dataclass_fields__)


def read_dinit_service(name: str, path: str, arg: str | None,
                       environ: Mapping[str, str]) -> Description:
    """Read the description at `path` as service `name` (`arg`: the part after '@', for $1)."""
    draft = _Draft(name, path, arg, environ)
    try:
        lines, problems = read_description(path, draft.expand_preload)
    except LoadError as error:
        return Description(name, path, None, [], [_owned(error, name)])
    draft.problems.extend(problems)
    for setting in lines:
        draft.apply(setting)
    env = draft.environment()
    for definition, setting in draft.pending:
        draft.apply_loaded(definition, setting, env)
    return draft.finish(env)


class _Draft:
    """The fields read so far, where each was set, and the problems found."""

    def __init__(self, name: str, path: str, arg: str | None, environ: Mapping[str, str]):
        self.name, self.path, self.arg, self.environ = name, path, arg, environ
        self.fields: dict[str, Any] = {}
        self.set_at: dict[str, Setting] = {}   # field -> the line that last set it
        self.first: dict[str, Setting] = {}    # setting name -> its first line (for lint)
        self.links: list[Link] = []
        self.pending: list[tuple[SettingDef, Setting]] = []  # load-time substitution, in order
        self.problems: list[LoadError] = []
        self.failed: set[str] = set()          # settings with a bad value somewhere

    # --- reporting ----------------------------------------------------------------------------

    def error(self, at: Setting, setting: str | None, message: str) -> None:
        self.problems.append(LoadError(at.file, at.line, setting, message, "error", self.name))

    def fail(self, definition: SettingDef, at: Setting, message: str) -> None:
        """A bad value: reported once; the setting's consequences are not reported again."""
        self.failed.add(definition.name)
        self.error(at, at.name, message)

    def warn(self, at: Setting, setting: str | None, message: str) -> None:
        self.problems.append(LoadError(at.file, at.line, setting, message, "warning", self.name))

    def expand_preload(self, value: str) -> str:
        return expand_value(value, self.environ.get, self.arg)

    # --- 1. each line -------------------------------------------------------------------------

    def apply(self, s: Setting) -> None:
        definition = S.lookup(s.name)
        if definition is None:
            return self.error(s, None, f"unknown setting '{s.name}'{S.suggestion(s.name)}")
        if definition.kind is Kind.UNSUPPORTED:
            note = f"; {definition.note}" if definition.note else ""
            return self.error(s, None, f"setting '{s.name}' is not supported by zeroinit{note}")
        if definition.kind is Kind.IGNORED:
            return self.warn(s, None, f"setting '{s.name}' is ignored by zeroinit")
        self.first.setdefault(definition.name, s)
        try:
            values.check_operator(definition, s.op)
            if definition.subst is Subst.LOAD:
                self._defer(definition, s)
            else:
                self._apply_now(definition, s)
        except BadValue as exc:
            self.fail(definition, s, str(exc))

    def _defer(self, definition: SettingDef, s: Setting) -> None:
        self.pending.append((definition, s))
        self.set_at[definition.field] = s
        # dinit: `logfile` switches log-type to file if it is still none at this line.
        if definition.name == "logfile" and self.fields.get("log_type", LogType.NONE) is LogType.NONE:
            self.fields["log_type"] = LogType.FILE

    def _apply_now(self, definition: SettingDef, s: Setting) -> None:
        kind = definition.kind
        value = self.expand_preload(s.value) if definition.subst is Subst.PRELOAD else s.value
        if kind is Kind.FLAGS:
            flags = self.fields.setdefault(definition.field, set())
            for word in s.words:
                try:
                    flags.add(self._unwrap(values.parse(definition, word), s))
                except BadValue as exc:
                    self.fail(definition, s, str(exc))
            self.set_at[definition.field] = s
            return
        parsed = self._unwrap(values.parse(definition, value), s)
        if kind is Kind.LINK:
            self.links.append(Link(definition.link, parsed, s.file, s.line, s.name))
        elif kind is Kind.LINK_DIR:
            self._link_dir(definition, self._resolve(definition, parsed, s), s)
        elif kind is Kind.KEYED:
            self.fields.setdefault(definition.field, {})[parsed[0]] = parsed
            self.set_at[definition.field] = s
        else:
            self.fields[definition.field] = self._resolve(definition, parsed, s)
            self.set_at[definition.field] = s

    def _unwrap(self, result: Any, s: Setting) -> Any:
        if isinstance(result, Warned):
            self.warn(s, s.name, result.warning)
            return result.value
        return result

    def _resolve(self, definition: SettingDef, path: str, s: Setting) -> str:
        if definition.relative_to == "fragment":
            return os.path.join(s.directory, path)
        if definition.relative_to == "description":
            return os.path.join(os.path.dirname(self.path), path)
        return path

    def _link_dir(self, definition: SettingDef, directory: str, s: Setting) -> None:
        # dinit-service(5): every entry not starting with '.' names a dependency; an unreadable
        # directory or a missing service is not fatal (a warning).
        try:
            entries = sorted(e for e in os.listdir(directory) if not e.startswith("."))
        except OSError as exc:
            return self.warn(s, s.name, f"cannot read directory {directory}: "
                                        f"{exc.strerror or exc}")
        for entry in entries:
            if is_valid_service_name(entry):
                self.links.append(Link(definition.link, entry, s.file, s.line, s.name, True))
            else:
                self.warn(s, s.name, f"ignoring '{entry}' in {directory}: invalid service name")

    # --- 2. the environment -------------------------------------------------------------------

    def environment(self) -> Environment:
        env = Environment.over(self.environ)
        options = self.fields.get("load_options", set())
        if "export-passwd-vars" in options:
            self._export_passwd_vars(env)
        if "export-service-name" in options:
            env.set("DINIT_SERVICE", self.name)
            env.set("ZEROINIT_SERVICE", self.name)
        env_file = self.fields.get("env_file")
        if env_file is not None:
            at = self.set_at["env_file"]
            try:
                parsed, warnings = read_env_file(env_file)
            except LoadError as error:
                self.error(at, at.name, f"{env_file}: {error.message}")
            else:
                self.problems.extend(warnings)
                apply(parsed, env)
        return env

    def _export_passwd_vars(self, env: Environment) -> None:
        run_as = self.fields.get("run_as")
        uid = run_as.uid if run_as is not None else os.geteuid()
        try:
            entry = pwd.getpwuid(uid)
        except KeyError:
            at = self.set_at["load_options"]
            return self.error(at, at.name, f"export-passwd-vars: uid {uid} is not in the "
                                           f"user database")
        for var, value in (("USER", entry.pw_name), ("LOGNAME", entry.pw_name),
                           ("HOME", entry.pw_dir), ("SHELL", entry.pw_shell),
                           ("UID", str(entry.pw_uid)), ("GID", str(entry.pw_gid))):
            env.set(var, value)

    # --- 3. load-time substitution ------------------------------------------------------------

    def apply_loaded(self, definition: SettingDef, s: Setting, env: Environment) -> None:
        try:
            if definition.kind is Kind.COMMAND:
                words = expand_command(s.words, env.lookup, self.arg)
                old = self.fields.get(definition.field, ()) if s.op == "+=" else ()
                self.fields[definition.field] = old + words
            else:
                value = values.parse(definition, expand_value(s.value, env.lookup, self.arg))
                self.fields[definition.field] = self._resolve(definition, value, s)
        except BadValue as exc:
            self.fail(definition, s, str(exc))

    # --- 4. finish ----------------------------------------------------------------------------

    def finish(self, env: Environment) -> Description:
        kind = self.fields.get("type", S.default("type"))
        self._check_command(kind)
        self._check_log(kind)
        self._check_watchdog(kind)
        self._lint(kind)
        pool = None
        if "instances" in self.fields and self.arg is None:
            pool = (self.fields["instances"], self.set_at["instances"].line)
        description = Description(self.name, self.path, None, self.links, self.problems, pool)
        if not description.has_errors:
            description.spec = with_links(self._spec(kind, env), self.links)
        return description

    def _check_command(self, kind: ServiceType) -> None:
        if kind in S.PROCESS_TYPES and not self.fields.get("command") and \
                "command" not in self.failed:
            at = self.set_at["type"]
            self.error(at, at.name, f"a {kind.value} service needs a 'command'")

    def _check_log(self, kind: ServiceType) -> None:
        log_type = self.fields.get("log_type", LogType.NONE)
        if "logfile" in self.set_at and log_type is not LogType.FILE:
            at = self.set_at["logfile"]
            self.warn(at, at.name, f"ignored: log-type is '{log_type.value}', not 'file'")
            self.fields.pop("logfile", None)
        elif log_type is LogType.FILE and "logfile" not in self.set_at and kind is not \
                ServiceType.INTERNAL:
            at = self.set_at["log_type"]
            self.error(at, at.name, "log-type 'file' needs a 'logfile'")
        if kind is ServiceType.INTERNAL:
            return  # _lint says that every log setting is ignored
        rotates = "logfile_max_size" in self.set_at
        if rotates and log_type is not LogType.FILE:
            at = self.set_at["logfile_max_size"]
            self.warn(at, at.name, f"ignored: log-type is '{log_type.value}', not 'file'")
        elif "logfile_keep" in self.set_at and not rotates:
            at = self.set_at["logfile_keep"]
            self.warn(at, at.name, "ignored without logfile-max-size")

    def _check_watchdog(self, kind: ServiceType) -> None:
        ready = self.fields.get("ready_notification")
        if "watchdog_timeout" in self.set_at and kind is ServiceType.PROCESS and \
                (ready is None or ready.kind is not ReadyKind.NOTIFY):
            at = self.set_at["watchdog_timeout"]
            self.warn(at, at.name, "ignored: ready-notification is not 'notify'")
            self.fields.pop("watchdog_timeout", None)

    def _lint(self, kind: ServiceType) -> None:
        if "type" in self.failed:
            return  # the type is a guess: what would not apply to it is no news
        article = "an" if kind is ServiceType.INTERNAL else "a"
        for name, at in self.first.items():
            if kind not in S.SETTINGS[name].applies_to:
                self.warn(at, at.name, f"ignored for {article} {kind.value} service")
        for option in sorted(self.fields.get("options", ())):
            if option in _OPTION_TYPES and kind not in _OPTION_TYPES[option]:
                at = self.set_at["options"]
                self.warn(at, at.name, f"option '{option}' is ignored for {article} "
                                       f"{kind.value} service")

    def _spec(self, kind: ServiceType, env: Environment) -> ServiceSpec:
        values = {k: v for k, v in self.fields.items() if k in _SPEC_FIELDS}
        values["type"] = kind
        values["options"] = frozenset(self.fields.get("options", ()))
        values["rlimits"] = tuple(self.fields.get("rlimits", {}).values())
        values["env"], values["env_clear"], values["env_unset"] = env.difference()
        values.setdefault("working_dir", os.path.dirname(self.path))
        values["instances"] = self.fields.get("instances") if self.arg is None else None
        values["template_arg"] = self.arg
        return ServiceSpec(name=self.name, source=source_of(self.path), **values)


def _owned(error: LoadError, name: str) -> LoadError:
    error.service = name
    return error
