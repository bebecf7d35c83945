// The `process` container runtime: every container is a real process on the node's own filesystem,
// in its pod's network namespace (network.ts) and its own UTS, mount and IPC namespaces, limited by
// its own cgroup (cgroups.ts), its output in CRI log files. Several agents may share one machine
// (parallel tests, several clusters), so every machine-wide name carries this runtime's instance
// id, a hash of its state directory: bridge `skb<id>`, sandboxes `<id>-<podUid>`, cgroups
// `skiff/<id>/pod<uid>/<container>.<12 hex of the container id>`. Without root it still runs
// containers, honestly reporting that pods share the host network and that limits are not enforced.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { logger } from '../../util/log.js';
import {
  cgroupDirs,
  cgroupSupport,
  createCgroup,
  openCgroup,
  pidsInTree,
  probeCgroups,
  removeIfEmpty,
  removeTree,
  CGROUP_ROOT,
  type Cgroup,
  type CgroupSupport,
} from '../cgroups.js';
import {
  createNodeNetwork,
  createPodSandbox,
  enableIpForward,
  listSandboxes,
  networkSupport,
  removeNodeNetwork,
  removePodSandbox as removeNetns,
  NETNS_DIR,
  sandboxNamespace,
  type NodeNetwork,
} from '../network.js';
import { launchContainer } from './process-container.js';
import { execInContainer } from './process-exec.js';
import { createMountPoints, deleteState, loadStates, removeCreatedPaths, saveState, unmountUnder, type SandboxState } from './process-host.js';
import { DEFAULT_PATH, hostTool, missingExecutable, primaryGroup } from './process-shim.js';
import { ContainerStartError, type Container, type ContainerConfig, type ContainerRuntime, type RuntimeInfo, type Sandbox, type SandboxConfig } from './runtime.js';

const log = logger('process-runtime');
export const PROCESS_RUNTIME_VERSION = '0.1.0';

export interface ProcessRuntimeOptions {
  nodeName: string;
  /** A directory that belongs to this agent alone; its path names everything the runtime makes. */
  stateDir: string;
  /** Set up the node network at once (else setupNodeNetwork does it when the CIDR is known). */
  podCidr?: string;
  /** The node's address, which host-network pods report as their IP. Default 127.0.0.1. */
  nodeIP?: string;
}

/** The 8-hex instance id of a state directory: what this runtime's machine-wide names carry. */
export function instanceId(stateDir: string): string {
  return createHash('sha256').update(resolve(stateDir)).digest('hex').slice(0, 8);
}

interface PodEntry {
  sandbox: Sandbox;
  state: SandboxState;
  hostname: string;
  netnsPath?: string;
  containers: Set<Container>;
}

/** cgroupSupport, plus a real try at making a limited cgroup where this instance will make them. */
function usableCgroups(inst: string): CgroupSupport {
  const cg = cgroupSupport();
  if (!cg.ok) return cg;
  const probe = probeCgroups(cg.version, `skiff/${inst}/probe`);
  for (const d of [...cgroupDirs(cg.version, `skiff/${inst}`), ...cgroupDirs(cg.version, 'skiff')]) removeIfEmpty(d);
  return probe.ok ? cg : probe;
}

// Container names become cgroup path components: DNS labels only, as the API validates them.
const CONTAINER_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const POD_UID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,53}$/;

/** Creates a process runtime. Nothing is touched on the machine until a method asks for it. */
export function createProcessRuntime(opts: ProcessRuntimeOptions): ContainerRuntime {
  const stateDir = resolve(opts.stateDir);
  const inst = instanceId(stateDir);
  const bridge = `skb${inst}`;
  const cgroupBase = `skiff/${inst}`;
  const nodeIP = opts.nodeIP ?? '127.0.0.1';
  const net = networkSupport();
  const cg = usableCgroups(inst);
  const isRoot = process.getuid?.() === 0;
  let nodeNet: NodeNetwork | undefined;
  const pods = new Map<string, PodEntry>();

  const setupNodeNetwork = async (podCidr: string): Promise<void> => {
    if (!net.ok) return;
    nodeNet = await createNodeNetwork({ bridge, podCidr });
    try {
      enableIpForward();
    } catch (e) {
      log.warn('cannot enable ip_forward; pods reach only this node', { error: (e as Error).message });
    }
  };
  let initial: Promise<void> | undefined = opts.podCidr !== undefined ? setupNodeNetwork(opts.podCidr) : undefined;
  initial?.catch(() => undefined);

  const podCgroup = (podUid: string): string => `${cgroupBase}/pod${podUid}`;

  // Everything removePodSandbox and cleanupLeftovers share: processes, netns, mounts, cgroups, paths.
  const teardown = async (state: SandboxState): Promise<number> => {
    let killed = 0;
    if (cg.ok) {
      const rel = podCgroup(state.podUid);
      killed += pidsInTree(cg.version, rel).length;
      for (const d of cgroupDirs(cg.version, rel)) await removeTree(d);
    }
    if (net.ok && /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(state.id)) await removeNetns(state.id);
    if (isRoot) await unmountUnder(state.podDir);
    removeCreatedPaths(state.createdPaths);
    deleteState(stateDir, state.id);
    return killed;
  };

  const runtime: ContainerRuntime = {
    info(): RuntimeInfo {
      return {
        name: 'process',
        version: `process://${PROCESS_RUNTIME_VERSION}`,
        networkIsolation: net,
        resourceLimits: cg.ok ? { ok: true, cgroupVersion: cg.version } : cg,
      };
    },

    setupNodeNetwork(podCidr) {
      initial = undefined;
      return setupNodeNetwork(podCidr);
    },

    async runPodSandbox(config: SandboxConfig): Promise<Sandbox> {
      if (initial) await initial.catch(() => undefined);
      if (!POD_UID.test(config.podUid)) throw new Error(`invalid pod uid ${JSON.stringify(config.podUid)}: 1-54 of [A-Za-z0-9_.-]`);
      const id = `${inst}-${config.podUid}`;
      const existing = pods.get(id);
      if (existing) return existing.sandbox;
      mkdirSync(config.podDir, { recursive: true });
      let fallbackReason: string | undefined;
      if (!config.hostNetwork) {
        if (!net.ok) fallbackReason = net.reason;
        else if (!nodeNet) fallbackReason = 'the node has no pod network yet (no pod CIDR)';
        else if (config.ip === undefined) fallbackReason = 'no pod IP was given';
      }
      const isolated = !config.hostNetwork && fallbackReason === undefined;
      const state: SandboxState = { id, podUid: config.podUid, podDir: config.podDir, isolated, createdPaths: [] };
      saveState(stateDir, state); // before anything is made, so a crash from here on is cleaned up
      let netnsPath: string | undefined;
      if (isolated) {
        try {
          netnsPath = (await createPodSandbox(nodeNet!, { id, ip: config.ip!, hostname: config.hostname })).netnsPath;
        } catch (e) {
          deleteState(stateDir, id);
          throw e;
        }
      }
      const sandbox: Sandbox = { id, podUid: config.podUid, ip: isolated ? config.ip! : nodeIP, isolated };
      if (fallbackReason !== undefined) sandbox.fallbackReason = fallbackReason;
      const entry: PodEntry = { sandbox, state, hostname: config.hostname, containers: new Set() };
      if (netnsPath !== undefined) entry.netnsPath = netnsPath;
      pods.set(id, entry);
      return sandbox;
    },

    async removePodSandbox(sandbox: Sandbox): Promise<void> {
      const entry = pods.get(sandbox.id);
      if (entry) {
        await Promise.all([...entry.containers].map((c) => c.stop(0)));
        await teardown(entry.state);
        pods.delete(sandbox.id);
        return;
      }
      const state = loadStates(stateDir).find((s) => s.id === sandbox.id);
      await teardown(state ?? { id: sandbox.id, podUid: sandbox.podUid, podDir: '/nonexistent-skiff-pod-dir', isolated: sandbox.isolated, createdPaths: [] });
    },

    async startContainer(sandbox: Sandbox, config: ContainerConfig): Promise<Container> {
      const entry = pods.get(sandbox.id);
      if (!entry) throw new ContainerStartError(`sandbox ${sandbox.id} does not exist (removed?)`, 'ContainerCannotRun');
      if (!CONTAINER_NAME.test(config.name)) throw new ContainerStartError(`invalid container name ${JSON.stringify(config.name)}`, 'ContainerCannotRun');
      if (config.argv.length === 0) throw new ContainerStartError('this runtime needs a command', 'ContainerCannotRun');
      if (!isRoot && config.mounts.length > 0) {
        throw new ContainerStartError(`bind mounts need root; this agent runs as uid ${process.getuid?.() ?? '?'}`, 'ContainerCannotRun');
      }
      const env: Record<string, string> = { PATH: DEFAULT_PATH, HOSTNAME: entry.hostname, ...config.env };
      const missing = missingExecutable(config.argv[0]!, env.PATH ?? DEFAULT_PATH, config.workingDir, config.mounts);
      if (missing !== undefined) throw new ContainerStartError(missing);
      if (isRoot) {
        const created = createMountPoints(config.mounts);
        if (created.length > 0) {
          entry.state.createdPaths.push(...created);
          saveState(stateDir, entry.state);
        }
      }
      const idHex = randomBytes(32).toString('hex');
      let cgroup: Cgroup | undefined;
      if (cg.ok) {
        // Each start gets its own cgroup: a previous attempt still being torn down never touches it.
        const rel = `${podCgroup(sandbox.podUid)}/${config.name}.${idHex.slice(0, 12)}`;
        try {
          cgroup = createCgroup(cg.version, rel, config.resources);
        } catch (e) {
          await openCgroup(cg.version, rel).remove();
          throw new ContainerStartError(`cannot create the container's cgroup: ${(e as Error).message}`);
        }
      }
      const prefix: string[] = [];
      if (isRoot) {
        if (entry.netnsPath !== undefined) prefix.push(hostTool('nsenter'), `--net=${entry.netnsPath}`, '--');
        prefix.push(hostTool('unshare'), '--uts', '--mount', '--ipc', '--propagation', 'private', '--');
      }
      const uid = config.runAsUser;
      const gid = config.runAsGroup ?? (uid !== undefined ? primaryGroup(uid) : undefined);
      const plan = {
        cgroupDirs: cgroup?.dirs ?? [],
        hostname: isRoot ? entry.hostname : undefined,
        mounts: config.mounts,
        workingDir: config.workingDir,
        uid,
        gid,
        argv: config.argv,
      };
      const container = await launchContainer({ id: `process://${idHex}`, config, prefix, plan, env, cgroup, namespaced: isRoot });
      entry.containers.add(container);
      void container.exited.then(() => entry.containers.delete(container));
      return container;
    },

    exec: execInContainer,

    async cleanupLeftovers() {
      const ids = new Set<string>();
      let processes = 0;
      for (const s of loadStates(stateDir)) {
        if (pods.has(s.id)) continue;
        ids.add(s.id);
        processes += await teardown(s);
      }
      if (net.ok) {
        for (const id of await listSandboxes()) {
          if (!id.startsWith(`${inst}-`) || pods.has(id)) continue;
          ids.add(id);
          await removeNetns(id);
        }
      }
      if (cg.ok && pods.size === 0) {
        processes += pidsInTree(cg.version, cgroupBase).length;
        for (const d of cgroupDirs(cg.version, cgroupBase)) await removeTree(d);
        for (const d of cgroupDirs(cg.version, 'skiff')) removeIfEmpty(d);
      }
      if (isRoot && pods.size === 0) await unmountUnder(stateDir);
      return { sandboxes: ids.size, processes };
    },

    async shutdown() {
      for (const entry of [...pods.values()]) await runtime.removePodSandbox(entry.sandbox);
      if (cg.ok) {
        for (const d of cgroupDirs(cg.version, cgroupBase)) await removeTree(d);
        for (const d of cgroupDirs(cg.version, 'skiff')) removeIfEmpty(d); // shared by every instance
      }
      if (nodeNet) await removeNodeNetwork(nodeNet);
      else if (net.ok && existsSync(`/sys/class/net/${bridge}`)) await removeNodeNetwork({ bridge, podCidr: '', gateway: '', prefix: 0 });
    },
  };
  return runtime;
}

/** Where a sandbox's network namespace lives (for tests and diagnostics). */
export function sandboxNetnsPath(sandboxId: string): string {
  return `${NETNS_DIR}/${sandboxNamespace(sandboxId)}`;
}
export { CGROUP_ROOT };
