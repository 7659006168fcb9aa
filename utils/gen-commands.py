#!/usr/bin/env python3
"""Generates src/commands_def.c, the command table, from facts recorded from Valkey 8
(command-info.json: the COMMAND INFO reply of every command, as JSON), plus this
server's own commands from utils/commands-extra.json.

Each entry names its implementation `<name>Command` (subcommands: `<container><Sub>Command`,
dashes and underscores turned into camel case; CLUSTER's subcommands share clusterCommand). The table refers to implementations through
weak symbols, so only commands this binary implements end up registered.

Usage: utils/gen-commands.py [path/to/command-info.json] > src/commands_def.c
"""
import json
import os
import sys

FLAGS = {
    "write": "CMD_WRITE", "readonly": "CMD_READONLY", "denyoom": "CMD_DENYOOM",
    "module": "CMD_MODULE", "admin": "CMD_ADMIN", "pubsub": "CMD_PUBSUB",
    "noscript": "CMD_NOSCRIPT", "blocking": "CMD_BLOCKING", "loading": "CMD_LOADING",
    "stale": "CMD_STALE", "skip_monitor": "CMD_SKIP_MONITOR", "skip_slowlog": "CMD_SKIP_SLOWLOG",
    "asking": "CMD_ASKING", "fast": "CMD_FAST", "no_auth": "CMD_NO_AUTH",
    "may_replicate": "CMD_MAY_REPLICATE", "sentinel": "CMD_SENTINEL",
    "only_sentinel": "CMD_ONLY_SENTINEL", "no_mandatory_keys": "CMD_NO_MANDATORY_KEYS",
    "protected": "CMD_PROTECTED", "module_getkeys": "CMD_MODULE_GETKEYS",
    "module_no_cluster": "CMD_MODULE_NO_CLUSTER", "no_async_loading": "CMD_NO_ASYNC_LOADING",
    "no_multi": "CMD_NO_MULTI", "movablekeys": "CMD_MOVABLE_KEYS", "allow_busy": "CMD_ALLOW_BUSY",
    "module_getchannels": "CMD_MODULE_GETCHANNELS", "touches_arbitrary_keys": "CMD_TOUCHES_ARBITRARY_KEYS",
}
KEY_FLAGS = {
    "RO": "CMD_KEY_RO", "RW": "CMD_KEY_RW", "OW": "CMD_KEY_OW", "RM": "CMD_KEY_RM",
    "access": "CMD_KEY_ACCESS", "update": "CMD_KEY_UPDATE", "insert": "CMD_KEY_INSERT",
    "delete": "CMD_KEY_DELETE", "not_key": "CMD_KEY_NOT_KEY", "incomplete": "CMD_KEY_INCOMPLETE",
    "variable_flags": "CMD_KEY_VARIABLE_FLAGS",
}


# Flags the server enforces but COMMAND INFO does not list (so they are not in the facts).
EXTRA_FLAGS = {"debug": ["CMD_PROTECTED"], "module": ["CMD_PROTECTED"]}


def c_ident(name):
    parts = name.replace("-", "_").replace(".", "_").split("_")
    return parts[0] + "".join(p.capitalize() for p in parts[1:])


# Containers whose subcommands all run the container's own implementation, as in Valkey:
# without cluster mode every CLUSTER subcommand gives the same refusal.
SHARED_CONTAINER_PROCS = {"cluster"}


def proc_name(fullname):
    pieces = fullname.split("|")
    ident = c_ident(pieces[0])
    if pieces[0] in SHARED_CONTAINER_PROCS:
        return ident + "Command"
    for sub in pieces[1:]:
        sub_ident = c_ident(sub)
        ident += sub_ident[0].upper() + sub_ident[1:]
    return ident + "Command"


def flag_expr(names, table):
    out = []
    for n in names:
        if n not in table:
            sys.exit("gen-commands: unknown flag %r" % n)
        out.append(table[n])
    return "|".join(out) if out else "0"


def acl_expr(cats):
    out = []
    for c in cats:
        out.append("ACL_CATEGORY_" + c.lstrip("@").upper())
    return "|".join(out) if out else "0"


def c_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def key_spec(ks):
    bs, fk = ks["begin_search"], ks["find_keys"]
    parts = [".flags = " + flag_expr(ks["flags"], KEY_FLAGS)]
    if bs["type"] == "index":
        parts.append(".begin_search_type = KSPEC_BS_INDEX, .bs.index = {%d}" % bs["spec"]["index"])
    elif bs["type"] == "keyword":
        parts.append(".begin_search_type = KSPEC_BS_KEYWORD, .bs.keyword = {%s, %d}" % (c_string(bs["spec"]["keyword"]), bs["spec"]["startfrom"]))
    else:
        parts.append(".begin_search_type = KSPEC_BS_UNKNOWN")
    if fk["type"] == "range":
        s = fk["spec"]
        parts.append(".find_keys_type = KSPEC_FK_RANGE, .fk.range = {%d, %d, %d}" % (s["lastkey"], s["keystep"], s["limit"]))
    elif fk["type"] == "keynum":
        s = fk["spec"]
        parts.append(".find_keys_type = KSPEC_FK_KEYNUM, .fk.keynum = {%d, %d, %d}" % (s["keynumidx"], s["firstkey"], s["keystep"]))
    else:
        parts.append(".find_keys_type = KSPEC_FK_UNKNOWN")
    return "{" + ", ".join(parts) + "}"


def emit_command(out, cmd, decls):
    full = cmd["name"]
    ident = c_ident(full.replace("|", "_"))
    proc = proc_name(full)
    decls.append(proc)
    if full in SHARED_CONTAINER_PROCS:
        proc = "NULL"  # the container itself runs nothing: an unknown subcommand is an error
    tips = "NULL"
    if cmd["tips"]:
        out.append("static const char *const %s_tips[] = {%s, NULL};" % (ident, ", ".join(c_string(t) for t in cmd["tips"])))
        tips = ident + "_tips"
    specs = "NULL"
    if cmd["key_specs"]:
        out.append("static keySpec %s_keyspecs[] = {\n    %s};" % (ident, ",\n    ".join(key_spec(k) for k in cmd["key_specs"])))
        specs = ident + "_keyspecs"
    subs = "NULL"
    if cmd["subcommands"]:
        sub_entries = [emit_command(out, s, decls) for s in sorted(cmd["subcommands"], key=lambda s: s["name"])]
        out.append("static serverCommand %s_subcommands[] = {\n%s,\n    {0}};" % (ident, ",\n".join(sub_entries)))
        subs = ident + "_subcommands"
    declared = full.split("|")[-1]
    flags = "|".join([flag_expr(cmd["flags"], FLAGS)] + EXTRA_FLAGS.get(full, []))
    return ("    {.declared_name = %s, .proc = %s, .arity = %d, .flags = %s, .acl_categories = %s, .tips = %s,\n"
            "     .key_specs = %s, .key_specs_num = %d, .subcommands = %s,\n"
            "     .legacy_first = %d, .legacy_last = %d, .legacy_step = %d}") % (
        c_string(declared), proc, cmd["arity"], flags, acl_expr(cmd["acl_categories"]),
        tips, specs, len(cmd["key_specs"]), subs, cmd["first_key"], cmd["last_key"], cmd["step"])


def merge_extra_commands(commands, path):
    """Adds this server's own commands (tiering) from commands-extra.json."""
    with open(path) as f:
        extra = json.load(f)
    for name, cmd in sorted(extra.items()):
        if name.startswith("_"):
            continue
        if "|" in name:
            parent = commands[name.split("|")[0]]
            parent["subcommands"] = [s for s in parent["subcommands"] if s["name"] != name] + [cmd]
        else:
            commands[name] = cmd


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "shared", "reference", "valkey8", "command-info.json")
    with open(path) as f:
        commands = json.load(f)
    merge_extra_commands(commands, os.path.join(here, "commands-extra.json"))
    body, decls = [], []
    entries = [emit_command(body, commands[name], decls) for name in sorted(commands)]
    print("/* commands_def.c -- the command table. GENERATED by utils/gen-commands.py from the")
    print(" * command facts of Valkey 8; do not edit by hand, change the generator instead. */")
    print('#include "commands.h"\n')
    print("struct client;")
    for proc in sorted(set(decls)):
        print("void %s(struct client *c) __attribute__((weak));" % proc)
    print()
    print("\n".join(body))
    print("\nserverCommand serverCommandTable[] = {\n%s,\n    {0}};" % ",\n".join(entries))


main()
