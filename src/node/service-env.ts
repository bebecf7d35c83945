// The environment variables the kubelet gives every container for the Services it can see
// (enableServiceLinks, the Docker-links style of pkg/kubelet/envvars): `WEB_SERVICE_HOST`,
// `WEB_SERVICE_PORT`, `WEB_SERVICE_PORT_<NAME>`, `WEB_PORT=tcp://10.43.0.12:80`,
// `WEB_PORT_80_TCP`, `…_PROTO`, `…_PORT`, `…_ADDR`. Services of the pod's namespace when
// enableServiceLinks is true (the default), and always the `kubernetes` Service of `default`.
// Headless and IP-less Services give none. Pure.
import type { Pod, Service } from 'kubernetes-types/core/v1.js';

function envName(serviceName: string): string {
  return serviceName.toUpperCase().replace(/-/g, '_');
}

function hasClusterIP(svc: Service): boolean {
  const ip = svc.spec?.clusterIP;
  return !!ip && ip !== 'None';
}

/** The variables of one Service (envvars.FromServices for one entry). */
export function serviceVariables(svc: Service): Record<string, string> {
  const out: Record<string, string> = {};
  if (!hasClusterIP(svc)) return out;
  const prefix = envName(svc.metadata?.name ?? '');
  const ip = svc.spec!.clusterIP!;
  const ports = svc.spec?.ports ?? [];
  out[`${prefix}_SERVICE_HOST`] = ip;
  if (ports[0]) out[`${prefix}_SERVICE_PORT`] = String(ports[0].port);
  for (const p of ports) if (p.name) out[`${prefix}_SERVICE_PORT_${envName(p.name)}`] = String(p.port);
  ports.forEach((p, i) => {
    const proto = (p.protocol ?? 'TCP').toLowerCase();
    const url = `${proto}://${ip}:${p.port}`;
    if (i === 0) out[`${prefix}_PORT`] = url;
    const pp = `${prefix}_PORT_${p.port}_${proto.toUpperCase()}`;
    out[pp] = url;
    out[`${pp}_PROTO`] = proto;
    out[`${pp}_PORT`] = String(p.port);
    out[`${pp}_ADDR`] = ip;
  });
  return out;
}

/**
 * The service environment of `pod`, from every Service the node knows (getServiceEnvVarMap):
 * the pod's namespace's when links are enabled, plus `default/kubernetes`; a Service of the pod's
 * own namespace wins over a same-named one from `default`.
 */
export function serviceEnv(pod: Pod, services: readonly Service[]): Record<string, string> {
  const ns = pod.metadata?.namespace ?? 'default';
  const links = pod.spec?.enableServiceLinks !== false;
  const chosen = new Map<string, Service>();
  for (const s of services) {
    const sns = s.metadata?.namespace;
    const name = s.metadata?.name ?? '';
    if (!hasClusterIP(s)) continue;
    if (sns === 'default' && name === 'kubernetes') {
      if (!chosen.has(name)) chosen.set(name, s);
    } else if (links && sns === ns) chosen.set(name, s);
  }
  const out: Record<string, string> = {};
  for (const name of [...chosen.keys()].sort()) Object.assign(out, serviceVariables(chosen.get(name)!));
  return out;
}
