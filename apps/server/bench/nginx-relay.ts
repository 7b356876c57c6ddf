/**
 * nginx (the Debian package) as a relay for the benchmark: one worker process, no master, in front
 * of the emulator with response buffering off — the way nginx is put in front of a streaming
 * provider — and its access log off. Everything it writes stays in a temporary prefix.
 *
 * Contract: `startNginxRelay(upstreamUrl)` resolves once nginx accepts connections, to its URL (the
 * emulator's paths work unchanged behind it), its pid (the one process doing the work, for CPU and
 * RSS), and `stop()`; it resolves to undefined, saying why, when no nginx binary is found.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface NginxRelay {
  readonly url: string;
  readonly pid: number;
  readonly version: string;
  stop(): Promise<void>;
}

function findNginx(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  return dirs.map((dir) => join(dir, 'nginx')).find((candidate) => existsSync(candidate) && spawnSync(candidate, ['-v']).status === 0);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

export async function startNginxRelay(upstreamUrl: string): Promise<NginxRelay | undefined> {
  const binary = findNginx();
  if (binary === undefined) return undefined;
  const version = spawnSync(binary, ['-v']).stderr.toString().trim();
  const upstream = new URL(upstreamUrl);
  const prefix = await mkdtemp(join(tmpdir(), 'wxstream-bench-nginx-'));
  const port = await freePort();
  const config = `
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 16384;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 8192; }
http {
    access_log off;
    client_body_temp_path ${prefix}/client_body;
    proxy_temp_path ${prefix}/proxy;
    fastcgi_temp_path ${prefix}/fastcgi;
    uwsgi_temp_path ${prefix}/uwsgi;
    scgi_temp_path ${prefix}/scgi;
    upstream provider {
        server ${upstream.hostname}:${upstream.port};
        keepalive 64;
    }
    server {
        listen 127.0.0.1:${port} backlog=4096;
        location / {
            proxy_pass http://provider;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_request_buffering off;
            proxy_read_timeout 600s;
        }
    }
}
`;
  await writeFile(join(prefix, 'nginx.conf'), config);
  const child = spawn(binary, ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-e', join(prefix, 'error.log')], { stdio: 'ignore' });
  for (let attempt = 0; !(await accepts(port)); attempt += 1) {
    if (attempt > 100 || child.exitCode !== null) throw new Error(`nginx did not start (see ${prefix}/error.log)`);
    await sleep(50);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid ?? 0,
    version,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGQUIT');
      await exited;
      await rm(prefix, { recursive: true, force: true });
    },
  };
}
