"""python3 -m zflow COMMAND FILE.py [flags]: the zflow command line for a pipeline declared in
Python (`zflow COMMAND FILE.py` comes here). COMMAND: validate, compile, graph or run; the flags
are those of the same command for a C++ pipeline (zflow::Main)."""
import sys

from . import PipelineError, load

USAGE = "usage: python3 -m zflow validate|compile|graph|run|deploy FILE.py [--pipeline NAME] [flags]"


def main(argv):
    if len(argv) < 2 or argv[0] in ("-h", "--help"):
        print(USAGE, file=sys.stderr if argv and argv[0] not in ("-h", "--help") else sys.stdout)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    command, file, rest = argv[0], argv[1], argv[2:]
    if not file.endswith(".py"):
        print(f"zflow {command}: {file} is not a pipeline file (FILE.py)\n{USAGE}",
              file=sys.stderr)
        return 2
    name = None
    if "--pipeline" in rest:
        i = rest.index("--pipeline")
        if i + 1 >= len(rest):
            print(f"zflow {command}: --pipeline needs a name", file=sys.stderr)
            return 2
        name = rest[i + 1]
        del rest[i:i + 2]
    try:
        pipeline = load(file, name)
    except PipelineError as e:
        print(e, file=sys.stderr)
        return 1
    return pipeline.main(["zflow", command] + rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
