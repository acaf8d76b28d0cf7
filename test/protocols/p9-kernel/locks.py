"""POSIX byte-range (fcntl) and flock locks between processes, run as root in the kclient guest.

    locks.py PATH_A PATH_B

PATH_A and PATH_B are the same file seen through one 9P mount and through a second mount of the
same server. Each lock is taken in a process of its own (locks belong to processes); pipes, not
sleeps, order the steps. Prints "ok NAME" per check and exits 1 at the first failure.
"""
import errno
import fcntl
import os
import select
import signal
import struct
import sys

A, B = sys.argv[1], sys.argv[2]


class Holder:
    """A child process that takes a lock and keeps it until released (or killed)."""

    def __init__(self, path, take):
        ready_r, ready_w = os.pipe()
        self.release_r, self.release_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(self.release_w)  # so that the parent's exit, too, ends the wait below
            fd = os.open(path, os.O_RDWR)
            take(fd)
            os.write(ready_w, b'L')
            os.read(self.release_r, 1)
            os._exit(0)  # closing the descriptor drops the lock
        assert os.read(ready_r, 1) == b'L'

    def release(self):
        os.write(self.release_w, b'R')
        os.waitpid(self.pid, 0)

    def kill(self):
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)


def attempt(path, take):
    """Whether `take` succeeds in a fresh process: True, False on EAGAIN/EACCES/EWOULDBLOCK."""
    pid = os.fork()
    if pid == 0:
        fd = os.open(path, os.O_RDWR)
        try:
            take(fd)
            os._exit(0)
        except OSError as e:
            os._exit(1 if e.errno in (errno.EAGAIN, errno.EACCES) else 2)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        sys.exit(f'unexpected failure taking a lock (exit {code})')
    return code == 0


def lockf(kind, length=0, start=0):
    return lambda fd: fcntl.lockf(fd, kind, length, start)


def lockf_nb(kind, length=0, start=0):
    return lambda fd: fcntl.lockf(fd, kind | fcntl.LOCK_NB, length, start)


def blocker_of(path, length, start):
    """F_GETLK from a fresh process: the l_type of the lock that would block a write lock there."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        fd = os.open(path, os.O_RDWR)
        query = struct.pack('hhqqi4x', fcntl.F_WRLCK, os.SEEK_SET, start, length, 0)
        l_type = struct.unpack('hhqqi4x', fcntl.fcntl(fd, fcntl.F_GETLK, query))[0]
        os.write(w, bytes([l_type]))
        os._exit(0)
    l_type = os.read(r, 1)[0]
    os.waitpid(pid, 0)
    return l_type


def check(name, condition):
    if not condition:
        sys.exit(f'not ok {name}')
    print(f'ok {name}', flush=True)


for path in (A, B):
    with open(path, 'ab'):
        pass

holder = Holder(A, lockf(fcntl.LOCK_EX, 10, 0))
check('fcntl: an overlapping range is refused to another process', not attempt(A, lockf_nb(fcntl.LOCK_EX, 5, 5)))
check('fcntl: a disjoint range is granted', attempt(A, lockf_nb(fcntl.LOCK_EX, 10, 10)))
check('fcntl: the second mount sees the lock', not attempt(B, lockf_nb(fcntl.LOCK_SH, 1, 9)))
check('fcntl: F_GETLK names the blocking write lock', blocker_of(B, 1, 3) == fcntl.F_WRLCK)
check('fcntl: F_GETLK is clear beyond it', blocker_of(B, 5, 10) == fcntl.F_UNLCK)
holder.release()
check('fcntl: released on close, granted through the second mount', attempt(B, lockf_nb(fcntl.LOCK_EX)))

readers = Holder(A, lockf(fcntl.LOCK_SH))
check('fcntl: read locks are shared across mounts', attempt(B, lockf_nb(fcntl.LOCK_SH)))
check('fcntl: a write lock waits for the readers', not attempt(B, lockf_nb(fcntl.LOCK_EX)))
readers.release()

holder = Holder(A, lockf(fcntl.LOCK_EX))
granted_r, granted_w = os.pipe()
waiter = os.fork()
if waiter == 0:
    fd = os.open(B, os.O_RDWR)
    fcntl.lockf(fd, fcntl.LOCK_EX)  # F_SETLKW: the kernel asks again until the server grants it
    os.write(granted_w, b'G')
    os._exit(0)
check('fcntl: F_SETLKW waits while the lock is held', select.select([granted_r], [], [], 0.5)[0] == [])
holder.release()
check('fcntl: F_SETLKW is granted once it is released', os.read(granted_r, 1) == b'G')
os.waitpid(waiter, 0)

holder = Holder(A, lockf(fcntl.LOCK_EX, 100, 0))
holder.kill()
check('fcntl: the lock of a killed process is gone', attempt(B, lockf_nb(fcntl.LOCK_EX, 100, 0)))

holder = Holder(A, lambda fd: fcntl.flock(fd, fcntl.LOCK_EX))
check('flock: a second exclusive flock is refused (same mount)', not attempt(A, lambda fd: fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)))
check('flock: and through the second mount', not attempt(B, lambda fd: fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)))
holder.release()
check('flock: granted once released', attempt(B, lambda fd: fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)))
