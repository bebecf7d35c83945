// A container's environment and argv as the kubelet builds them (makeEnvironmentVariables in
// pkg/kubelet/kubelet_pods.go): envFrom first, then env in order with `$(VAR)` expansion against
// what came before, valueFrom configMap/secret keys, the downward API (fieldRef, resourceFieldRef);
// then command + args expanded against the result. Errors carry the kubelet's words because they
// become the CreateContainerConfigError message `kubectl describe` shows. Pure apart from
// `deps.get`, which reads ConfigMaps and Secrets (from an informer cache or the API).
import type { Container, ObjectFieldSelector, Pod, ResourceFieldSelector } from 'kubernetes-types/core/v1.js';
import { milliValue, roundUpQuantity, tryParseQuantity, type Quantity } from '../util/quantity.js';

/**
 * Kubernetes' `$(VAR)` expansion (third_party/forked/golang/expansion): `$(VAR)` becomes the value
 * when `env` defines VAR and stays as written when it does not; `$$` is an escaped `$`, so
 * `$$(VAR)` yields the literal `$(VAR)`. Anything else (`$VAR`, `${VAR}`, an unclosed `$(`) passes
 * through unchanged.
 */
export function expandVars(s: string, env: Readonly<Record<string, string>>): string {
  return expandWith(s, (name) => (Object.hasOwn(env, name) ? (env[name] as string) : `$(${name})`));
}

/** The same expansion with a custom lookup: `mapping(name)` is what `$(name)` becomes. */
export function expandWith(input: string, mapping: (name: string) => string): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const next = input[cursor + 1];
    let advance = 1;
    if (next === '$') {
      out += '$';
    } else if (next === '(') {
      const close = input.indexOf(')', cursor + 2);
      if (close < 0) {
        out += '$(';
      } else {
        out += mapping(input.slice(cursor + 2, close));
        advance = close - cursor;
      }
    } else {
      out += `$${next}`;
    }
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}

/** What resolveEnv needs from the node agent. */
export interface EnvDeps extends DownwardFacts {
  /** Reads a ConfigMap or Secret of the pod's namespace; undefined when it does not exist. A throw becomes the error. */
  get(resource: 'configmaps' | 'secrets', namespace: string, name: string): Promise<object | undefined>;
  /** The node's allocatable (quantities): the value of a resourceFieldRef to a limit the container does not set. */
  nodeAllocatable?: { cpu?: string; memory?: string; 'ephemeral-storage'?: string };
  /**
   * The service links (`WEB_SERVICE_HOST`, …) the next issue computes: the lowest-priority layer,
   * visible to `$(VAR)` expansion and overridden by envFrom and env.
   */
  serviceEnv?: Record<string, string>;
}

export type EnvResult = { env: Record<string, string>; warnings?: string[] } | { error: string };

/** Facts the downward API reads that are not in the pod object itself. */
export interface DownwardFacts {
  podIP: string;
  /** Every pod address, primary first; defaults to [podIP]. */
  podIPs?: string[];
  hostIP: string;
  hostIPs?: string[];
  nodeName: string;
  serviceAccountName?: string;
}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/**
 * The container's whole environment. On success `warnings` lists envFrom keys skipped because
 * they are not valid variable names (the kubelet's InvalidEnvironmentVariableNames event); on
 * failure `error` is the kubelet's message (e.g. `configmap "x" not found`). Never throws.
 */
export async function resolveEnv(pod: Pod, container: Container, deps: EnvDeps): Promise<EnvResult> {
  const ns = pod.metadata?.namespace ?? 'default';
  const cache = new Map<string, Record<string, string> | null>();
  const warnings: string[] = [];
  // Returns the object's data decoded, null when it does not exist.
  const load = async (kind: 'configmaps' | 'secrets', name: string): Promise<Record<string, string> | null> => {
    const key = `${kind}/${name}`;
    if (cache.has(key)) return cache.get(key) ?? null;
    const obj = (await deps.get(kind, ns, name)) as { data?: Record<string, string> } | undefined;
    const data = obj === undefined ? null : kind === 'secrets' ? decodeSecret(obj.data) : { ...(obj.data ?? {}) };
    cache.set(key, data);
    return data;
  };
  const notFound = (kind: 'configmaps' | 'secrets', name: string) =>
    `${kind === 'configmaps' ? 'configmap' : 'secret'} "${name}" not found`;

  try {
    const env: Record<string, string> = {};
    for (const from of container.envFrom ?? []) {
      const ref = from.configMapRef ?? from.secretRef;
      if (ref === undefined) continue;
      const kind = from.configMapRef ? 'configmaps' : 'secrets';
      const data = await load(kind, ref.name ?? '');
      if (data === null) {
        if (ref.optional === true) continue;
        return { error: notFound(kind, ref.name ?? '') };
      }
      const invalid: string[] = [];
      for (const [k, v] of Object.entries(data)) {
        const name = (from.prefix ?? '') + k;
        if (!ENV_NAME.test(name)) invalid.push(name);
        else env[name] = v;
      }
      if (invalid.length > 0) {
        const what = kind === 'configmaps' ? 'configMap' : 'secret';
        warnings.push(
          `Keys [${invalid.sort().join(', ')}] from the EnvFrom ${what} ${ns}/${ref.name} were skipped since they are considered invalid environment variable names.`,
        );
      }
    }

    const serviceEnv = deps.serviceEnv ?? {};
    const lookup = (name: string) =>
      Object.hasOwn(env, name) ? (env[name] as string) : Object.hasOwn(serviceEnv, name) ? (serviceEnv[name] as string) : `$(${name})`;
    for (const v of container.env ?? []) {
      let value = v.value ?? '';
      if (value !== '') {
        value = expandWith(value, lookup);
      } else if (v.valueFrom) {
        const from = v.valueFrom;
        if (from.fieldRef) {
          const r = podFieldValue(pod, from.fieldRef, deps);
          if ('error' in r) return r;
          value = r.value;
        } else if (from.resourceFieldRef) {
          const r = resourceFieldValue(pod, container, from.resourceFieldRef, deps.nodeAllocatable);
          if ('error' in r) return r;
          value = r.value;
        } else if (from.configMapKeyRef || from.secretKeyRef) {
          const ref = (from.configMapKeyRef ?? from.secretKeyRef)!;
          const kind = from.configMapKeyRef ? 'configmaps' : 'secrets';
          const data = await load(kind, ref.name ?? '');
          if (data === null) {
            if (ref.optional === true) continue;
            return { error: notFound(kind, ref.name ?? '') };
          }
          if (!Object.hasOwn(data, ref.key)) {
            if (ref.optional === true) continue;
            return { error: `couldn't find key ${ref.key} in ${kind === 'configmaps' ? 'ConfigMap' : 'Secret'} ${ns}/${ref.name}` };
          }
          value = data[ref.key] as string;
        }
      }
      env[v.name] = value;
    }
    // Service links are the base layer: whatever envFrom and env set wins.
    const result = { ...serviceEnv, ...env };
    return warnings.length > 0 ? { env: result, warnings } : { env: result };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

/** Secret data is base64 in the API; the environment and files get the decoded bytes. */
export function decodeSecret(data: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(data ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
  return out;
}

/**
 * The container's argv: command + args with `$(VAR)` expanded against its environment. The process
 * runtime has no image to read an entrypoint from, so a container without a command (or with only
 * flag args meant for an entrypoint) is an error (the agent reports it as CreateContainerError).
 */
export function containerArgv(container: Container, env: Readonly<Record<string, string>>): string[] | { error: string } {
  const command = container.command ?? [];
  const args = container.args ?? [];
  // Args alone replace an image's CMD; for the images people write this way (busybox, python:
  // no ENTRYPOINT) that makes the args the whole command line, as `kubectl run x --image=busybox
  // -- sh -c '…'` means. Args that start with a flag are clearly for an entrypoint we cannot read.
  if (command.length === 0 && args.length > 0 && !args[0]!.startsWith('-')) return args.map((s) => expandVars(s, env));
  if (command.length === 0) {
    return {
      error: `container "${container.name}": this runtime needs a command: the process runtime runs commands on the node and cannot read image "${container.image ?? ''}"'s entrypoint`,
    };
  }
  return [...command, ...(container.args ?? [])].map((s) => expandVars(s, env));
}

const SUBSCRIPTED = /^(metadata\.(?:labels|annotations))\['(.*)'\]$/;

/**
 * A fieldRef's value (podFieldSelectorRuntimeValue + fieldpath.ExtractFieldPathAsString):
 * metadata.name/namespace/uid, labels and annotations (whole, as sorted `k="v"` lines, or one key
 * with `['k']`), spec.nodeName, spec.serviceAccountName, status.hostIP(s), status.podIP(s).
 */
export function podFieldValue(pod: Pod, ref: ObjectFieldSelector, facts: DownwardFacts): { value: string } | { error: string } {
  const version = ref.apiVersion ?? 'v1';
  if (version !== 'v1') return { error: `unsupported pod version: ${version}` };
  const path = ref.fieldPath;
  const meta = pod.metadata ?? {};
  const sub = SUBSCRIPTED.exec(path);
  if (sub) {
    const map = sub[1] === 'metadata.labels' ? meta.labels : meta.annotations;
    return { value: map?.[sub[2] ?? ''] ?? '' };
  }
  const podIPs = facts.podIPs && facts.podIPs.length > 0 ? facts.podIPs : facts.podIP ? [facts.podIP] : [];
  switch (path) {
    case 'metadata.name':
      return { value: meta.name ?? '' };
    case 'metadata.namespace':
      return { value: meta.namespace ?? '' };
    case 'metadata.uid':
      return { value: meta.uid ?? '' };
    case 'metadata.labels':
      return { value: formatMap(meta.labels) };
    case 'metadata.annotations':
      return { value: formatMap(meta.annotations) };
    case 'spec.nodeName':
      return { value: pod.spec?.nodeName ?? facts.nodeName };
    case 'spec.serviceAccountName':
      return { value: facts.serviceAccountName ?? pod.spec?.serviceAccountName ?? '' };
    case 'status.hostIP':
      return { value: facts.hostIP };
    case 'status.hostIPs':
      return { value: (facts.hostIPs ?? [facts.hostIP]).join(',') };
    case 'status.podIP':
      return { value: podIPs[0] ?? '' };
    case 'status.podIPs':
      return { value: podIPs.join(',') };
    case 'spec.terminationGracePeriodSeconds':
      return { value: String(pod.spec?.terminationGracePeriodSeconds ?? 30) };
    default:
      return { error: `field label not supported: ${path}` };
  }
}

/** fieldpath.FormatMap: `key="value"` lines sorted by key, values quoted as Go's strconv.Quote does. */
function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${JSON.stringify(m?.[k] ?? '')}`)
    .join('\n');
}

/**
 * A resourceFieldRef's value (ExtractContainerResourceValue): the container's (or the named
 * container's) limit or request divided by the divisor (default 1) and rounded up — so cpu is whole
 * cores by default. A limit the container does not set is the node's allocatable, as the kubelet's
 * defaultPodLimitsForDownwardAPI makes it.
 */
export function resourceFieldValue(
  pod: Pod,
  container: Container | undefined,
  ref: ResourceFieldSelector,
  allocatable: EnvDeps['nodeAllocatable'],
): { value: string } | { error: string } {
  let target = container;
  if (ref.containerName) {
    const all = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
    target = all.find((c) => c.name === ref.containerName);
    if (!target) return { error: `container ${ref.containerName} not found` };
  }
  const [kind, resource] = splitOnce(ref.resource, '.');
  if ((kind !== 'limits' && kind !== 'requests') || !['cpu', 'memory', 'ephemeral-storage'].includes(resource)) {
    return { error: `unsupported container resource : ${ref.resource}` };
  }
  const list = (kind === 'limits' ? target?.resources?.limits : target?.resources?.requests) ?? {};
  let text = list[resource] as string | number | undefined;
  if (text === undefined && kind === 'limits') text = allocatable?.[resource as 'cpu'];
  const amount = tryParseQuantity(String(text ?? '0'));
  if (!amount) return { error: `invalid quantity ${JSON.stringify(text)} for ${ref.resource}` };
  const divisorText = ref.divisor === undefined ? '1' : String(ref.divisor);
  let divisor = tryParseQuantity(divisorText);
  if (!divisor) return { error: `invalid divisor ${JSON.stringify(divisorText)}` };
  if (divisor.mantissa === 0n) divisor = tryParseQuantity('1')!;
  if (resource === 'cpu') return { value: String(Math.ceil(milliValue(amount) / milliValue(divisor))) };
  return { value: String(Math.ceil(wholeValue(amount) / wholeValue(divisor))) };
}

/** Quantity.Value(): the value rounded up to an integer. */
function wholeValue(q: Quantity): number {
  const r = roundUpQuantity(q, 0);
  return Number(r.mantissa) * 10 ** r.scale;
}

function splitOnce(s: string, sep: string): [string, string] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + 1)];
}
