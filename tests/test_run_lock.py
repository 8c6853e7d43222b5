"""The run folder's lock (`cnndsl.train.folder`) is `filelock`'s, not `fcntl`'s
(POSIX only, which broke `import cnndsl.train` on Windows), and a forked loader
worker keeps no copy of it. Each check runs in a child of its own: one without
`fcntl`, one that forks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

from cnndsl.train.folder import LOCK, FolderError, RunFolder


def child(code: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


WITHOUT_FCNTL = """
    import sys, warnings
    sys.modules["fcntl"] = None          # as on Windows: any import of it fails
    warnings.simplefilter("ignore")      # filelock's note that only soft locks are left
    from pathlib import Path
    from cnndsl.train.folder import FolderError, RunFolder
    first = RunFolder.open_new(sys.argv[1], "net")
    try:
        RunFolder.open_new(sys.argv[1], "net")
        print("locked twice")
    except FolderError as exc:
        print("refused:", exc)
    first.release()
    RunFolder.open_new(sys.argv[1], "net").release()
    print("again")
"""


def test_the_run_folder_locks_without_fcntl(tmp_path):
    out = child(WITHOUT_FCNTL, str(tmp_path / "run")).splitlines()
    assert out[0].startswith("refused:") and "in use by another cnndsl train run" in out[0]
    assert out[1] == "again"


FORKED_WORKER = """
    import os, sys, time
    from cnndsl.train.folder import RunFolder, forget_inherited_locks
    RunFolder.open_new(sys.argv[1], "net")
    pid = os.fork()
    if pid == 0:                    # a loader worker
        forget_inherited_locks()
        print(os.getpid(), flush=True)
        time.sleep(120)
        os._exit(0)
    time.sleep(120)                 # the trainer, holding the lock until it is killed
"""


def test_a_forked_worker_outliving_a_killed_trainer_keeps_no_lock(tmp_path):
    trainer = subprocess.Popen([sys.executable, "-c", textwrap.dedent(FORKED_WORKER),
                                str(tmp_path / "run")], stdout=subprocess.PIPE, text=True)
    worker = None
    try:
        worker = int(trainer.stdout.readline())
        trainer.send_signal(signal.SIGKILL)      # no unlock: only the descriptors close
        trainer.wait(timeout=60)
        again = RunFolder(tmp_path / "run", False)
        again.lock()                             # what --resume does
        again.release()
    finally:
        trainer.kill()
        trainer.wait(timeout=60)
        trainer.stdout.close()
        if worker is not None:
            os.kill(worker, signal.SIGKILL)


def test_a_second_lock_in_one_process_is_refused_and_release_frees_it(tmp_path):
    first = RunFolder.open_new(str(tmp_path / "run"), "net")
    try:
        second = RunFolder(tmp_path / "run", False)
        try:
            second.lock()
            raise AssertionError("one folder locked twice")
        except FolderError as exc:
            assert "in use by another cnndsl train run" in str(exc)
    finally:
        first.release()
    again = RunFolder(tmp_path / "run", False)
    again.lock()
    again.release()


def test_abandoning_a_new_folder_removes_it_and_its_lock(tmp_path):
    folder = RunFolder.open_new(str(tmp_path / "run"), "net")
    assert (tmp_path / "run" / LOCK).exists()
    folder.abandon()
    assert not (tmp_path / "run").exists()
    kept = RunFolder.open_new(str(tmp_path / "kept"), "net")
    (tmp_path / "kept" / "notes.txt").write_text("mine")
    kept.abandon()
    assert sorted(p.name for p in (tmp_path / "kept").iterdir()) == ["notes.txt"]   # no .lock left
