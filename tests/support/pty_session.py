"""Runs a program on a pseudo-terminal, types lines into it, and prints everything it wrote.

Used by the integration tests to drive redis-cli in interactive mode (it only enables its
interactive behaviour, hints and COMMAND DOCS lookups, when stdin is a terminal).

usage: python3 pty_session.py TIMEOUT_SECONDS LINES_JSON PROGRAM [ARGS...]
Each line is typed after the program has been quiet for a moment; the program must exit by
itself (e.g. after a typed `quit`) before the timeout. Exits with the program's exit code, or
124 when it had to be killed at the timeout.
"""
import json, os, pty, select, sys, time

def main() -> int:
    timeout = float(sys.argv[1])
    lines = json.loads(sys.argv[2])
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(sys.argv[3], sys.argv[3:])
    deadline = time.time() + timeout
    out = bytearray()
    pending = list(lines)
    quiet_since = time.time()
    while time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
            if b"\x1b[6n" in chunk:
                # Answer the line editor's cursor position query as a terminal would.
                os.write(fd, b"\x1b[1;1R")
            quiet_since = time.time()
        elif pending and time.time() - quiet_since > 0.3:
            os.write(fd, (pending.pop(0) + "\r").encode())
            quiet_since = time.time()
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            sys.stdout.write(out.decode("utf-8", "replace"))
            return os.waitstatus_to_exitcode(status)
    sys.stdout.write(out.decode("utf-8", "replace"))
    if time.time() < deadline:
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status)
    try:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    except OSError:
        pass
    return 124

if __name__ == "__main__":
    sys.exit(main())
