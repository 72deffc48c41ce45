"""Run a command on a pseudo-terminal and save what it wrote there.

usage: on_tty.py OUT_FILE COMMAND [ARG...]

The command's standard output and error are the terminal (TERM=xterm); standard input is the
terminal too and never written. Bounded: the command is killed after 20 s. Exits 0 once the
command has ended (whatever its status), 1 if it had to be killed.
"""
import os
import pty
import select
import sys
import time

out_path, argv = sys.argv[1], sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.environ["TERM"] = "xterm"
    os.execv(argv[0], argv)
out = b""
end = time.time() + 20
ended = False
while time.time() < end:
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the terminal's last writer closed it
            chunk = b""
        if chunk:
            out += chunk
            continue
    if os.waitpid(pid, os.WNOHANG)[0]:
        ended = True
        break
if not ended:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
with open(out_path, "wb") as f:
    f.write(out)
sys.exit(0 if ended else 1)
