// Runs `skiff up` as a user would (a child process, a temporary data dir, port 0) and the real
// kubectl against it with a fresh HOME (kubectl caches discovery there). Everything started here
// is stopped and removed by stop(), which tests call from `after`, even when they fail.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Skiff {
  dataDir: string;
  kubeconfig: string;
  home: string;
  url: string;
  /** Runs kubectl; never throws on a non-zero exit (check `code`). */
  kubectl(args: string[], opts?: { input?: string; timeoutMs?: number; env?: Record<string, string> }): Promise<KubectlResult>;
  /** Starts kubectl and returns the live process (for `get -w`). */
  kubectlSpawn(args: string[]): ChildProcess;
  /** Stops the server with SIGTERM (or SIGKILL) and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<number | null>;
  /** Starts `skiff up` again on the same data dir. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const ROOT = resolve(import.meta.dirname, '..', '..');
export const KUBECTL = process.env.KUBECTL ?? 'kubectl';

let clusters = 0;
/**
 * Flags for a cluster with the real local node: its InternalIP on loopback (the API server reaches
 * the agent there) and a pod CIDR of its own, so clusters of tests running side by side never put
 * two bridges on one subnet. 10.64.0.0/16 … 10.127.0.0/16: clear of the defaults (10.42, 10.43).
 */
export function localNodeFlags(): string[] {
  const n = 64 + ((process.pid * 7 + clusters++) % 64);
  return ['--local-node', '--node-ip', '127.0.0.1', '--node-name', 'local', '--cluster-cidr', `10.${n}.0.0/16`];
}

function launch(dataDir: string, extra: string[]): Promise<{ proc: ChildProcess; url: string }> {
  // `--local-node` is the harness's own word: without it, clusters run with --no-local-node.
  const local = extra.includes('--local-node');
  const args = ['up', '--data-dir', dataDir, '--port', '0', '--bind-address', '127.0.0.1', ...(local ? [] : ['--no-local-node']), ...extra.filter((a) => a !== '--local-node')];
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, SKIFF_LOG: process.env.SKIFF_LOG ?? 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  return new Promise((res, rej) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      rej(new Error(`skiff up did not become ready in 30 s\nstdout: ${out}\nstderr: ${err}`));
    }, 30_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ready at (https:\/\/\S+)/.exec(out);
      if (m && out.includes('KUBECONFIG')) {
        clearTimeout(timer);
        res({ proc, url: m[1]! });
      }
    });
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (process.env.SKIFF_E2E_VERBOSE) process.stderr.write(d);
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`skiff up exited with ${code}\nstdout: ${out}\nstderr: ${err}`));
    });
  });
}

export async function startSkiff(extra: string[] = []): Promise<Skiff> {
  const dataDir = mkdtempSync(join(tmpdir(), 'skiff-e2e-'));
  const home = mkdtempSync(join(tmpdir(), 'skiff-home-'));
  let { proc, url } = await launch(dataDir, extra);
  const kubeconfig = join(dataDir, 'kubeconfig');
  const env = () => ({ ...process.env, KUBECONFIG: kubeconfig, HOME: home });

  const exited = (p: ChildProcess) => new Promise<number | null>((r) => (p.exitCode !== null || p.signalCode !== null ? r(p.exitCode) : p.once('exit', (c) => r(c))));
  const s: Skiff = {
    dataDir,
    kubeconfig,
    home,
    get url() {
      return url;
    },
    kubectl(args, opts = {}) {
      return new Promise((res) => {
        const p = spawn(KUBECTL, args, { env: { ...env(), ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
        p.on('close', (code) => {
          clearTimeout(timer);
          res({ code: code ?? -1, stdout, stderr });
        });
        p.stdin.end(opts.input ?? '');
      });
    },
    kubectlSpawn(args) {
      return spawn(KUBECTL, args, { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    },
    async kill(signal = 'SIGTERM') {
      proc.removeAllListeners('exit');
      const done = exited(proc);
      proc.kill(signal);
      return done;
    },
    async restart() {
      ({ proc, url } = await launch(dataDir, extra));
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.removeAllListeners('exit');
        const done = exited(proc);
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        await done;
        clearTimeout(t);
      }
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
    },
  };
  return s;
}

export function readKubeconfigToken(kubeconfig: string): string {
  return /token: (\S+)/.exec(readFileSync(kubeconfig, 'utf8'))![1]!;
}
