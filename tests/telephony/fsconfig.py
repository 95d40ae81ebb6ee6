"""Read freeswitch-config/ the way FreeSWITCH does, without FreeSWITCH.

`preprocess()` follows switch_xml.c's preprocessor: line by line, `$${var}` expanded before
anything else (an unknown variable becomes ""), lines holding `<include>`, `</include>` or
`<?` dropped, `<X-PRE-PROCESS cmd=... data=.../>` lines executed (set, env-set, exec-set,
include with a glob relative to the including file's directory) and not copied. `exec-set`
keeps the old value when its command prints nothing; `printenv VAR | tr -d '\\n'` is read from
`env`, any other command is recorded, not run. The result
is the one XML document FreeSWITCH parses. `route()` walks an XML dialplan context like
mod_dialplan_xml: conditions are regexes on a field, `continue="true"` goes on to the next
extension, `inline="true"` sets take effect during the walk.
"""

from __future__ import annotations

import glob
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parents[2] / "freeswitch-config"

# Variables FreeSWITCH computes before reading vars.xml (sample values).
BUILTINS = {
    "hostname": "freeswitch", "local_ip_v4": "172.30.57.10", "local_mask_v4": "255.255.255.0",
    "local_ip_v6": "::1", "switch_serial": "0", "base_dir": "/usr", "conf_dir": "/etc/freeswitch",
    "log_dir": "/var/log/freeswitch", "run_dir": "/run/freeswitch",
    "db_dir": "/var/lib/freeswitch/db",
    "mod_dir": "/usr/lib/freeswitch/mod", "sounds_dir": "/usr/share/freeswitch/sounds",
    "recordings_dir": "/var/lib/freeswitch/recordings", "temp_dir": "/tmp",
    "core_uuid": "00000000-0000-0000-0000-000000000000", "zrtp_enabled": "false",
    "nat_public_addr": "", "nat_private_addr": "", "nat_type": "",
}
DIRECTIVE = re.compile(
    r'^\s*<X-PRE-PROCESS\s+cmd="(?P<cmd>[^"]+)"\s+data="(?P<data>[^"]*)"\s*/>\s*$',
    re.IGNORECASE,
)
VAR = re.compile(r"\$\$\{([^}]+)\}")


@dataclass
class Preprocessed:
    text: str
    variables: dict[str, str]
    env_vars: dict[str, str]  # FreeSWITCH variable -> environment variable it comes from
    env_set: set[str]  # variables set with env-set (an empty environment value wins)
    exec_set: set[str]
    used: dict[str, set[str]] = field(default_factory=dict)  # variable -> files using it
    undefined: dict[str, set[str]] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    def xml(self) -> ET.Element:
        return ET.fromstring(self.text)


def preprocess(
    root: Path = CONFIG_DIR / "freeswitch.xml", env: Mapping[str, str] | None = None
) -> Preprocessed:
    env = dict(os.environ if env is None else env)
    result = Preprocessed(text="", variables=dict(BUILTINS), env_vars={}, env_set=set(),
                          exec_set=set())
    out: list[str] = []

    def expand(line: str, file: Path) -> str:
        def one(m: re.Match[str]) -> str:
            name = m.group(1)
            result.used.setdefault(name, set()).add(str(file))
            if name not in result.variables:
                result.undefined.setdefault(name, set()).add(str(file))
                return ""
            return result.variables[name]

        return VAR.sub(one, line)

    def run(file: Path, depth: int = 0) -> None:
        assert depth < 100, "include recursion"
        result.files.append(file)
        for raw in file.read_text().splitlines():
            line = expand(raw, file)
            if "<include>" in line or "</include>" in line or "<?" in line:
                continue
            if "x-pre-process" in line.lower():
                m = DIRECTIVE.match(line)
                if m is None:  # FreeSWITCH drops such a line (e.g. the word in a comment)
                    continue
                cmd, data = m.group("cmd").lower(), m.group("data")
                if cmd == "include":
                    pattern = data if data.startswith("/") else str(file.parent / data)
                    for path in sorted(glob.glob(pattern)):
                        run(Path(path), depth + 1)
                elif cmd in ("set", "env-set", "exec-set"):
                    name, _, value = data.partition("=")
                    name, value = name.strip(), value.strip()
                    if cmd == "set":
                        result.variables[name] = value
                    elif cmd == "exec-set":
                        result.exec_set.add(name)
                        printenv = re.fullmatch(r"printenv (\w+) \| tr -d '\\n'", value)
                        if printenv is None:
                            result.variables[name] = f"<output of: {value}>"
                            continue
                        result.env_vars[name] = printenv.group(1)
                        # popen output, newlines deleted, trailing blanks cut; empty: unchanged
                        output = env.get(printenv.group(1), "").replace("\n", "").rstrip(" ")
                        if output:
                            result.variables[name] = output
                    else:
                        assert value.startswith("$"), f"env-set needs $ENV: {data}"
                        result.env_vars[name] = value[1:]
                        result.env_set.add(name)
                        if value[1:] in env:
                            result.variables[name] = env[value[1:]]
                continue
            out.append(line)

    run(root)
    result.text = "\n".join(out)
    return result


# --- dialplan -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    app: str
    data: str


def _acl(root: ET.Element, ip: str, name: str) -> str:
    """The `acl` API: "true" when `ip` is allowed by network list `name` (comma-separated
    CIDRs per node, as our config writes them), else "false"."""
    import ipaddress

    lists = [lst for lst in root.iter("list") if lst.get("name") == name]
    if len(lists) != 1 or not ip:
        return "false"
    address = ipaddress.ip_address(ip)
    for node in lists[0].iter("node"):
        cidrs = [c.strip() for c in node.get("cidr", "").split(",") if c.strip()]
        if any(address in ipaddress.ip_network(c, strict=False) for c in cidrs):
            return "true" if node.get("type") == "allow" else "false"
    return "true" if lists[0].get("default") == "allow" else "false"


def _expand_channel(text: str, channel: Mapping[str, str],
                    root: ET.Element | None = None) -> str:
    """${var} from the channel (innermost first, so ${acl(${network_addr} list)} works)."""

    def one(m: re.Match[str]) -> str:
        name = m.group(1)
        acl = re.fullmatch(r"acl\((\S*) (\S+)\)", name)
        if acl is not None and root is not None:
            return _acl(root, acl.group(1), acl.group(2))
        return channel.get(name, "")

    while True:
        expanded = re.sub(r"\$\{([^${}]+)\}", one, text)
        if expanded == text:
            return expanded
        text = expanded


def _captures(text: str, m: re.Match[str]) -> str:
    return re.sub(r"\$(\d)", lambda g: m.group(int(g.group(1))) or "", text)


def route(
    root: ET.Element, context: str, destination: str, caller: str = "+16175550199",
    variables: Mapping[str, str] | None = None,
) -> list[Action]:
    """The actions mod_dialplan_xml would queue for a call to `destination` in `context`.
    `variables`: channel and global variables the fields read (network_addr, global vars)."""
    contexts = [c for c in root.iter("context") if c.get("name") == context]
    assert len(contexts) == 1, f"context {context!r} defined {len(contexts)} times"
    channel = {**(variables or {}), "destination_number": destination, "caller_id_number": caller}
    actions: list[Action] = []
    for ext in contexts[0].findall("extension"):
        matched = True
        ext_actions: list[Action] = []
        for cond in ext.findall("condition"):
            field_name = cond.get("field", "")
            value = (_expand_channel(field_name, channel, root) if "${" in field_name
                     else channel.get(field_name, ""))
            m = re.search(cond.get("expression", ""), value)
            if m is None:
                matched = False
                ext_actions = [Action(a.get("application", ""), a.get("data", ""))
                               for a in cond.findall("anti-action")]
                break
            for a in cond.findall("action"):
                data = _expand_channel(_captures(a.get("data", ""), m), channel, root)
                if a.get("inline") == "true" and a.get("application") == "set":
                    key, _, val = data.partition("=")
                    channel[key] = val
                ext_actions.append(Action(a.get("application", ""), data))
        actions.extend(ext_actions)
        if matched and ext.get("continue") != "true":
            break
    return actions
