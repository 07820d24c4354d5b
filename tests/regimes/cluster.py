# SPDX-License-Identifier: MIT
"""A throwaway high-availability PostgreSQL cluster on loopback, as a team would run it past one
machine: an etcd member, PostgreSQL nodes kept by Patroni (one leader, the others hot standbys
streaming from it, one of them synchronous), and PgBouncer in front of the leader. Patroni's
on_role_change callback points PgBouncer at a node when it becomes the leader (and RELOADs it),
so writers keep one address. Every process runs as the `postgres` user when started by root
(PostgreSQL and PgBouncer refuse root), in its own session, and is stopped by stop(). A piece
that cannot start is an error, never a skip."""

import json
import os
import pwd
import signal
import socket
import subprocess
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")
SCOPE = "prkl"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_env():
    # A sanitizer build preloads its runtime into this Python; the servers must not inherit it.
    return {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "ASAN_OPTIONS")}


def wait_until(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while True:
        try:
            if condition():
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} within {seconds} s")
        time.sleep(0.2)


def get_json(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
        return json.loads(response.read() or b"null")


class Node:
    def __init__(self, root, index, etcd_port, pgbouncer_ini):
        self.name = f"node{index}"
        self.dir = root / self.name
        self.pg_port, self.rest_port = free_port(), free_port()
        self.process = None
        self.dir.mkdir()
        callback = self.dir / "on_role_change.sh"
        # Patroni calls it with the action, the new role and the scope. A node that becomes the
        # leader takes PgBouncer's writers: new server connections go to its port.
        callback.write_text(textwrap.dedent(f"""\
            #!/bin/sh
            case "$2" in master|primary) ;; *) exit 0 ;; esac
            sed -i 's/^prkl = .*/prkl = host=127.0.0.1 port={self.pg_port} dbname=prkl/' {pgbouncer_ini}
            kill -HUP "$(cat {pgbouncer_ini.parent}/pgbouncer.pid)"
            """))
        callback.chmod(0o755)
        (self.dir / "patroni.yml").write_text(textwrap.dedent(f"""\
            scope: {SCOPE}
            name: {self.name}
            log: {{level: WARNING}}
            restapi: {{listen: "127.0.0.1:{self.rest_port}", connect_address: "127.0.0.1:{self.rest_port}"}}
            etcd3: {{hosts: "127.0.0.1:{etcd_port}"}}
            bootstrap:
              dcs:
                # The leader's key lives 10 s unrenewed: a dead leader is replaced about 10 s
                # after it stops renewing (loop_wait + 2 x retry_timeout must fit in ttl).
                ttl: 10
                loop_wait: 1
                retry_timeout: 4
                # A commit waits for one standby, and only that standby may be promoted: no
                # acknowledged write is lost with the leader.
                synchronous_mode: true
                maximum_lag_on_failover: 0
                postgresql:
                  parameters:
                    max_connections: 60
                    wal_keep_size: 256MB
                    dynamic_shared_memory_type: mmap
                    fsync: "off"
              initdb: [{{encoding: UTF8}}, {{locale: C}}]
              pg_hba:
                - local all all trust
                - host all all 127.0.0.1/32 trust
                - host replication all 127.0.0.1/32 trust
            postgresql:
              listen: "127.0.0.1:{self.pg_port}"
              connect_address: "127.0.0.1:{self.pg_port}"
              data_dir: {self.dir / 'data'}
              bin_dir: {PG_BIN}
              pgpass: {self.dir / 'pgpass'}
              authentication:
                superuser: {{username: postgres}}
                replication: {{username: postgres}}
              parameters: {{unix_socket_directories: "{self.dir}"}}
              callbacks: {{on_role_change: {callback}}}
            """))

    def start(self, as_user):
        log = open(self.dir / "patroni.log", "ab")
        self.process = subprocess.Popen(
            ["/usr/bin/patroni", str(self.dir / "patroni.yml")], stdout=log, stderr=log,
            start_new_session=True, env=child_env(), **as_user)

    def role(self):
        """'leader', 'standby' (streaming, replayable), or None while neither."""
        state = get_json(self.rest_port, "/patroni")
        if state.get("state") != "running":
            return None
        return "leader" if state.get("role") in ("master", "primary") else "standby"

    def postmaster(self):
        """The node's postmaster while it runs: a killed one leaves its pid file behind, and the
        pid may belong to another process since, so the process must name this data directory."""
        pid_file = self.dir / "data" / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().split()[0])
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError, IndexError):
            return None
        return pid if str(self.dir / "data").encode() in command else None

    def postgres_processes(self):
        """The postmaster and its children (each backend is a session of its own, so no process
        group holds them all)."""
        postmaster = self.postmaster()
        if not postmaster:
            return []
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == postmaster:
                children.append(int(stat.parent.name))
        return [postmaster, *children]

    def kill(self):
        """The machine is gone: Patroni and PostgreSQL (postmaster and every backend) at once.
        The postmaster is stopped first, so that it forks no backend between the listing of its
        children and their end."""
        os.killpg(self.process.pid, signal.SIGKILL)
        postmaster = self.postmaster()
        if postmaster:
            os.kill(postmaster, signal.SIGSTOP)
        for pid in self.postgres_processes():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(10)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()  # Patroni stops PostgreSQL, then itself
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.kill()
        for pid in self.postgres_processes():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


class Cluster:
    def __init__(self, nodes=3):
        self.root = Path(tempfile.mkdtemp(prefix="prkl-ha-", dir="/tmp"))
        self.as_user = {}
        if os.getuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self.as_user = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
        self.etcd_port, self.etcd_peer = free_port(), free_port()
        self.pgbouncer_port = free_port()
        self.pgbouncer_ini = self.root / "pgbouncer" / "pgbouncer.ini"
        self.etcd = self.pgbouncer = None
        self.nodes = []
        self.size = nodes

    def _own(self, path):
        if self.as_user:
            for p in [path, *path.rglob("*")]:
                os.chown(p, self.as_user["user"], self.as_user["group"])

    def _spawn(self, args, log):
        return subprocess.Popen(args, stdout=open(log, "ab"), stderr=subprocess.STDOUT,
                                start_new_session=True, env=child_env(), **self.as_user)

    def start(self):
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self):
        for tool in ("/usr/bin/patroni", "/usr/bin/etcd", "/usr/sbin/pgbouncer", PG_BIN / "postgres"):
            if not Path(tool).exists():
                raise RuntimeError(f"{tool} is missing (scripts/setup.sh --all installs it)")
        etcd_dir = self.root / "etcd"
        self.etcd = self._spawn(
            ["/usr/bin/etcd", "--name", "e0", "--data-dir", str(etcd_dir),
             "--listen-client-urls", f"http://127.0.0.1:{self.etcd_port}",
             "--advertise-client-urls", f"http://127.0.0.1:{self.etcd_port}",
             "--listen-peer-urls", f"http://127.0.0.1:{self.etcd_peer}",
             "--initial-advertise-peer-urls", f"http://127.0.0.1:{self.etcd_peer}",
             "--initial-cluster", f"e0=http://127.0.0.1:{self.etcd_peer}"], self.root / "etcd.log")
        wait_until(lambda: get_json(self.etcd_port, "/health")["health"] == "true", 30,
                   "etcd did not answer")
        self.pgbouncer_ini.parent.mkdir()
        self.nodes = [Node(self.root, i, self.etcd_port, self.pgbouncer_ini)
                      for i in range(self.size)]
        self._write_pgbouncer_ini(self.nodes[0].pg_port)
        self._own(self.root)
        # The first node bootstraps (initdb) and leads; the others are made from it.
        self.nodes[0].start(self.as_user)
        wait_until(lambda: self.nodes[0].role() == "leader", 60, "node0 did not lead")
        for node in self.nodes[1:]:
            node.start(self.as_user)
        wait_until(lambda: all(n.role() == "standby" for n in self.nodes[1:]) and
                   self.sync_standby() is not None, 120, "the standbys did not stream")
        self.pgbouncer = self._spawn(["/usr/sbin/pgbouncer", str(self.pgbouncer_ini)],
                                     self.root / "pgbouncer" / "out.log")
        wait_until(lambda: socket.create_connection(("127.0.0.1", self.pgbouncer_port), 1), 30,
                   "pgbouncer did not listen")
        self.psql(self.nodes[0], "CREATE DATABASE prkl")

    def _write_pgbouncer_ini(self, leader_port):
        run = self.pgbouncer_ini.parent
        (run / "userlist.txt").write_text('"postgres" ""\n')
        self.pgbouncer_ini.write_text(textwrap.dedent(f"""\
            [databases]
            prkl = host=127.0.0.1 port={leader_port} dbname=prkl

            [pgbouncer]
            pool_mode = transaction
            listen_addr = 127.0.0.1
            listen_port = {self.pgbouncer_port}
            unix_socket_dir =
            auth_type = trust
            admin_users = postgres
            auth_file = {run / 'userlist.txt'}
            logfile = {run / 'pgbouncer.log'}
            pidfile = {run / 'pgbouncer.pid'}
            default_pool_size = 8
            ; A leader that is gone is not waited for long: writers hear of it and retry.
            server_connect_timeout = 2
            server_login_retry = 1
            query_wait_timeout = 10
            """))

    def cluster_state(self):
        for node in self.nodes:
            try:
                return get_json(node.rest_port, "/cluster")
            except OSError:
                continue
        return {}

    def leader(self):
        for member in self.cluster_state().get("members", []):
            if member.get("role") == "leader" and member.get("state") == "running":
                return next(n for n in self.nodes if n.name == member["name"])
        return None

    def sync_standby(self):
        for member in self.cluster_state().get("members", []):
            if member.get("role") == "sync_standby" and member.get("state") in ("running",
                                                                               "streaming"):
                return member["name"]
        return None

    def wait_replayed(self, seconds=60):
        """Until every standby has replayed all the leader has written so far."""
        leader = self.leader()
        lsn = self.psql(leader, "SELECT pg_current_wal_lsn()")
        for node in self.nodes:
            if node is not leader:
                wait_until(lambda: self.psql(
                    node, f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'") == "t", seconds,
                    f"{node.name} did not replay {lsn}")

    def conninfo(self, node, dbname="prkl"):
        return f"host=127.0.0.1 port={node.pg_port} user=postgres dbname={dbname}"

    def writer_url(self):
        return (f"host=127.0.0.1 port={self.pgbouncer_port} user=postgres dbname=prkl "
                "connect_timeout=5")

    def standby_url(self, order=None):
        nodes = order or self.nodes
        return (f"host={','.join(['127.0.0.1'] * len(nodes))} "
                f"port={','.join(str(n.pg_port) for n in nodes)} user=postgres dbname=prkl "
                "target_session_attrs=prefer-standby connect_timeout=2")

    def psql(self, node, query, dbname="postgres"):
        return subprocess.run(
            ["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", self.conninfo(node, dbname),
             "-c", query], check=True, capture_output=True, text=True, env=child_env(),
            timeout=60).stdout.strip()

    def describe(self, leader):
        """What a hang looks like: the processes, the leader's sessions, PgBouncer's pools."""
        ps = subprocess.run(["ps", "-eo", "pid,ppid,pgid,stat,cmd"], capture_output=True,
                            text=True, env=child_env()).stdout
        admin = f"host=127.0.0.1 port={self.pgbouncer_port} user=postgres dbname=pgbouncer"
        pools = subprocess.run(["psql", "-X", admin, "-c", "SHOW CLIENTS", "-c", "SHOW SERVERS"],
                               capture_output=True, text=True, env=child_env(), timeout=30).stdout
        sessions = self.psql(leader, "SELECT string_agg(concat_ws(' ', pid, state, wait_event, "
                             "left(query, 60)), E'\\n') FROM pg_stat_activity", dbname="prkl")
        return "\n".join([
            "processes:", *[line for line in ps.splitlines() if "postgres" in line or
                            "pgbouncer" in line or "patroni" in line],
            f"sessions on {leader.name}:", sessions, "PgBouncer:", pools,
            f"Patroni: {self.cluster_state()}"])

    def stop(self):
        for node in self.nodes:
            node.stop()
        for process in (self.pgbouncer, self.etcd):
            if process and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
        if os.environ.get("PRKL_KEEP_CLUSTER"):
            print(f"cluster files kept in {self.root}")
        else:
            subprocess.run(["rm", "-rf", str(self.root)], check=False)
