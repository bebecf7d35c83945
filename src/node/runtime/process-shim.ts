// How the process runtime turns a container into a command line: util-linux's nsenter (the pod's
// network namespace) and unshare (the container's own UTS, mount and IPC namespaces), then a small
// POSIX sh "shim" that joins the container's cgroups, sets the hostname, makes the bind mounts, goes
// to the working directory, checks that the program exists, and finally execs setpriv (user, group,
// parent-death signal) with the container's argv. Every value reaches the shim as a positional
// argument; no user string is ever pasted into script text.
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import type { Mount } from './runtime.js';

/** The PATH a container gets when its env sets none (what container runtimes default to). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

// $1 report channel (fd3|stderr), $2 exit code on failure, then counted groups of arguments:
// cgroup dirs; hostname; mounts (src dst ro); working dir; setpriv words; argv.
const SHIM = `set -f
rep=$1; code=$2; shift 2
fail() { if [ "$rep" = fd3 ]; then printf '%s' "$1" >&3; else printf '%s\\n' "$1" >&2; fi; exit "$code"; }
n=$1; shift
while [ "$n" -gt 0 ]; do echo $$ > "$1/cgroup.procs" || fail "cannot join cgroup $1"; shift; n=$((n-1)); done
h=$1; shift
if [ -n "$h" ]; then printf '%s' "$h" > /proc/sys/kernel/hostname || fail "cannot set hostname $h"; fi
n=$1; shift
while [ "$n" -gt 0 ]; do
  if [ -d "$1" ]; then [ -d "$2" ] || mkdir -p "$2" 2>/dev/null
  elif [ ! -e "$2" ]; then mkdir -p "\${2%/*}" 2>/dev/null; : > "$2" 2>/dev/null; fi
  err=$(mount --bind "$1" "$2" 2>&1) || fail "error mounting \\"$1\\" to \\"$2\\": $err"
  if [ "$3" = 1 ]; then err=$(mount -o remount,bind,ro "$2" 2>&1) || fail "cannot make \\"$2\\" read-only: $err"; fi
  shift 3; n=$((n-1))
done
w=$1; shift
# cd sets PWD and OLDPWD; the program must see the container's env, not the shim's.
p=\${PWD-unset:}; o=\${OLDPWD-unset:}
if [ -n "$w" ]; then cd "$w" 2>/dev/null || fail "chdir to cwd (\\"$w\\") set in config.json failed: no such file or directory"; fi
if [ "$p" = unset: ]; then unset PWD; else export PWD="$p"; fi
if [ "$o" = unset: ]; then unset OLDPWD; else export OLDPWD="$o"; fi
k=$1; shift
eval "p=\\\${$((k+1))}"
ok=
case $p in
  */*) [ -f "$p" ] && [ -x "$p" ] && ok=1 ;;
  *) IFS=:; for d in $PATH; do [ -f "\${d:-.}/$p" ] && [ -x "\${d:-.}/$p" ] && { ok=1; break; }; done; unset IFS ;;
esac
[ -n "$ok" ] || fail "exec: \\"$p\\": executable file not found in \\$PATH"
exec "$@" 3>&-
`;

/** Absolute path of a host tool, searched in the usual system directories; throws if missing. */
export function hostTool(name: string): string {
  for (const d of [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/bin', '/usr/sbin', '/sbin']) {
    if (d !== '' && existsSync(join(d, name))) return join(d, name);
  }
  throw new Error(`the process runtime needs \`${name}\` (util-linux), not found`);
}

export interface ShimPlan {
  /** How a failure before exec is reported: on fd 3 (a pipe the runtime reads), or on stderr. */
  report: 'fd3' | 'stderr';
  failCode: number;
  cgroupDirs: string[];
  hostname?: string;
  mounts: Mount[];
  workingDir?: string;
  uid?: number;
  gid?: number;
  argv: string[];
}

/** The `sh -c SHIM sh args…` words for a plan. */
export function shimWords(plan: ShimPlan): string[] {
  const setpriv = [hostTool('setpriv')];
  if (plan.gid !== undefined) setpriv.push('--regid', String(plan.gid));
  if (plan.uid !== undefined) setpriv.push('--reuid', String(plan.uid));
  if (plan.uid !== undefined || plan.gid !== undefined) setpriv.push('--clear-groups');
  setpriv.push('--pdeathsig', 'KILL', '--');
  return [
    hostTool('sh'), '-c', SHIM, 'sh', plan.report, String(plan.failCode),
    String(plan.cgroupDirs.length), ...plan.cgroupDirs,
    plan.hostname ?? '',
    String(plan.mounts.length), ...plan.mounts.flatMap((m) => [m.hostPath, m.containerPath, m.readOnly ? '1' : '0']),
    plan.workingDir ?? '',
    String(setpriv.length), ...setpriv,
    ...plan.argv,
  ];
}

/**
 * The group a uid runs with when runAsGroup is unset: the user's primary group from /etc/passwd
 * (this runtime's "image" is the node's filesystem), else 0, as runc resolves a numeric user.
 */
export function primaryGroup(uid: number): number {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length >= 4 && Number(f[2]) === uid && f[2] !== '') return Number(f[3]);
    }
  } catch {
    /* no passwd: fall through */
  }
  return 0;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Where a container path lies on the host, through the container's bind mounts (the last mount
 * covering it wins, as in the mount namespace); unmounted paths are the host's own.
 */
export function hostPathOf(path: string, mounts: Mount[]): string {
  for (let i = mounts.length - 1; i >= 0; i--) {
    const m = mounts[i]!;
    const cp = m.containerPath.replace(/\/+$/, '');
    if (path === cp) return m.hostPath;
    if (path.startsWith(cp + '/')) return join(m.hostPath, path.slice(cp.length + 1));
  }
  return path;
}

/**
 * runc's message when argv[0] cannot be found, checked up front against the container's PATH and
 * working dir on the node's filesystem seen through the mounts; undefined when it is found.
 */
export function missingExecutable(argv0: string, path: string, workingDir: string | undefined, mounts: Mount[]): string | undefined {
  if (argv0.includes('/')) {
    const abs = isAbsolute(argv0) ? argv0 : resolve(workingDir ?? '/', argv0);
    return executable(hostPathOf(abs, mounts)) ? undefined : `exec: "${argv0}": stat ${argv0}: no such file or directory`;
  }
  for (const d of path.split(':')) {
    const dir = d === '' ? (workingDir ?? '/') : d;
    if (executable(hostPathOf(join(dir, argv0), mounts))) return undefined;
  }
  return `exec: "${argv0}": executable file not found in $PATH`;
}
