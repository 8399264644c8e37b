"""nginx with TLS from a private CA in front of Label Studio, as its image configures it
(``deploy/nginx.conf``): installed from Debian's packages when missing, run in the
foreground on loopback with its config, pid, temp and log files in a temp dir."""

from __future__ import annotations

import os
import shutil
import signal
import ssl
import tempfile
from pathlib import Path

import trustme

from .procs import Process, answers_200, apt_install, free_port

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "deploy" / "nginx.conf"


def ensure_installed() -> str:
    """The nginx binary, installing Debian's ``nginx`` package first when it is missing."""
    path = "/usr/sbin:/usr/bin"
    found = shutil.which("nginx", path=path)
    if not found:
        apt_install("nginx")
        found = shutil.which("nginx", path=path)
    if not found:
        raise RuntimeError("nginx is still missing after installing Debian's nginx package")
    return found


class Nginx:
    """One nginx on a free loopback port: ``/`` proxies to ``root_upstream``, ``/ls/`` to
    ``prefix_upstream`` (the prefix stripped). ``cacert`` is the CA bundle clients trust.
    The caller removes ``dir`` when done."""

    def __init__(self) -> None:
        # A temp dir of its own that nginx's workers (nobody, when the master is root) may
        # enter: they write large answers to its proxy_temp while relaying them.
        self.dir = Path(tempfile.mkdtemp(prefix="ls-nginx-"))
        self.dir.chmod(0o711)
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        self.cacert = self.dir / "ca.pem"
        ca.cert_pem.write_to_path(str(self.cacert))
        self._chain, self._key = self.dir / "chain.pem", self.dir / "key.pem"
        cert.private_key_pem.write_to_path(str(self._key))
        self._key.chmod(0o600)
        self._chain.write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
        self.process: Process | None = None

    def start(self, exe: str, root_upstream: int, prefix_upstream: int) -> Process:
        fills = {"TMP": self.dir, "PORT": self.port, "CERT": self._chain, "KEY": self._key,
                 "ROOT_UPSTREAM": root_upstream, "PREFIX_UPSTREAM": prefix_upstream}  # fmt: skip
        text = CONFIG.read_text()
        for name, value in fills.items():
            text = text.replace(f"@{name}@", str(value))
        config = self.dir / "nginx.conf"
        config.write_text(text)
        # -p: nginx's prefix (relative paths, the default log before the config is read).
        cmd = [exe, "-p", str(self.dir), "-c", str(config), "-e", str(self.dir / "error.log")]
        # SIGQUIT: nginx's graceful stop (SIGTERM is its fast one; either ends it).
        self.process = Process("nginx", cmd, env=dict(os.environ), log_path=self.dir / "nginx.log",
                               stop_signal=signal.SIGQUIT)  # fmt: skip
        return self.process

    def wait_ready(self) -> None:
        assert self.process is not None
        context = ssl.create_default_context(cafile=str(self.cacert))
        self.process.wait_until(lambda: answers_200(self.url + "/nginx_health", context), 30)
