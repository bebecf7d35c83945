// Runs `skiff up` as a user would (a child process, a temporary data dir, port 0) and the real
// kubectl against it with a fresh HOME (kubectl caches discovery there). Everything started here
// is stopped and removed by stop(), which tests call from `after`, even when they fail.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createProcessRuntime } from '../../src/node/runtime/process.js';

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

const CLAIMS = join(tmpdir(), 'skiff-e2e-cidrs');
const STALE_CLAIM_MS = 2 * 3600_000;

/**
 * A pod CIDR no other cluster on this machine uses: 10.N.0.0/16 with N in 64…127 (clear of the
 * defaults 10.42 and 10.43), not routed here yet, and claimed with an exclusive file so test
 * files starting clusters side by side never put two bridges on one subnet. stop() releases it.
 */
function claimClusterCidr(): number {
  mkdirSync(CLAIMS, { recursive: true });
  const routes = execFileSync('ip', ['-4', 'route', 'show']).toString();
  const start = Math.floor(Math.random() * 64);
  for (let i = 0; i < 64; i++) {
    const n = 64 + ((start + i) % 64);
    if (routes.includes(`10.${n}.`) || routes.includes(`10.${n + 64}.`)) continue;
    const claim = join(CLAIMS, String(n));
    try {
      if (existsSync(claim) && Date.now() - statSync(claim).mtimeMs > STALE_CLAIM_MS) rmSync(claim, { force: true });
      closeSync(openSync(claim, 'wx'));
      return n;
    } catch {
      // taken by another test process
    }
  }
  throw new Error('no free 10.N.0.0/16 for a test cluster (64…127 all in use)');
}

function releaseClusterCidr(extra: string[]): void {
  const cidr = extra[extra.indexOf('--cluster-cidr') + 1];
  const m = /^10\.(\d+)\.0\.0\/16$/.exec(cidr ?? '');
  if (m) rmSync(join(CLAIMS, m[1]!), { force: true });
}

/**
 * Flags for a cluster with the real local node `local`: its InternalIP on loopback (the API server
 * reaches the agent there), pod and Service CIDRs and a load-balancer pool of its own (10.N/16,
 * 10.N+64/16, 127.N.0.0/24: the proxies of clusters side by side share the machine's netfilter),
 * and a cluster DNS that forwards nowhere (tests never reach resolvers outside this machine).
 */
export function localNodeFlags(): string[] {
  const n = claimClusterCidr();
  return ['--local-node', '--node-ip', '127.0.0.1', '--node-name', 'local', '--cluster-cidr', `10.${n}.0.0/16`, '--service-cidr', `10.${n + 64}.0.0/16`, '--lb-pool', `127.${n}.0.0/24`, '--dns-upstreams', 'none'];
}

/** The value of `--name` in a flag list. */
export function flagValue(flags: string[], name: string): string {
  const i = flags.indexOf(`--${name}`);
  if (i < 0 || i + 1 >= flags.length) throw new Error(`no --${name} in ${flags.join(' ')}`);
  return flags[i + 1]!;
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
      if (extra.includes('--local-node')) {
        // whatever a killed node left (a clean stop leaves nothing: node-restart.test.ts checks)
        const rt = createProcessRuntime({ nodeName: 'local', stateDir: join(dataDir, 'node') });
        await rt.cleanupLeftovers();
        await rt.shutdown();
        releaseClusterCidr(extra);
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
