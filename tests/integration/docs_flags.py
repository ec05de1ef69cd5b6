"""Every flag the README and docs/ show with a zflow subcommand is in that subcommand's --help.
Usage: docs_flags.py ZFLOW ROOT"""
import glob
import re
import subprocess
import sys

zflow, root = sys.argv[1], sys.argv[2]
files = [f"{root}/README.md"] + glob.glob(f"{root}/docs/**/*.md", recursive=True)
groups = ("executions", "endpoints", "task-token")
uses = set()
for path in files:
    with open(path, encoding="utf-8") as f:
        for line in f:
            for m in re.finditer(r"\bzflow ((?:%s) )?([a-z][a-z-]*)([^`\n|]*)" % "|".join(groups), line):
                command = ((m.group(1) or "") + m.group(2)).split()
                for flag in re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", m.group(3)):
                    uses.add((tuple(command), flag, path))
helps = {}
missing = []
for command, flag, path in sorted(uses):
    if command not in helps:
        r = subprocess.run([zflow, *command, "--help"], capture_output=True, text=True)
        helps[command] = r.stdout + r.stderr if r.returncode == 0 else None
    if helps[command] is None:
        continue  # not a subcommand (prose such as "zflow is ...")
    if flag not in helps[command]:
        missing.append(f"{path}: zflow {' '.join(command)} {flag} is not in its --help")
print("\n".join(missing) or f"ok: {len(uses)} documented flags are in their commands' --help")
sys.exit(1 if missing else 0)
