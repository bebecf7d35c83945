// The registry of every resource type Skiff serves: plain data, as Kubernetes 1.32 declares
// them (group, version, plural, singular, short names, categories, scope, subresources, and the
// field labels usable in field selectors). Discovery, OpenAPI, routing, tables and the client
// all read this one list; adding a kind starts here.
import { apiVersionOf } from './types.js';

export type Verb = 'create' | 'delete' | 'deletecollection' | 'get' | 'list' | 'patch' | 'update' | 'watch';

export interface ScaleSubresource {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath: string;
}

export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  listKind: string;
  /** Lower-case plural: the path segment (`deployments`). */
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: Verb[];
  /** Subresources served, with the verbs each accepts. `status` and `scale` are generic. */
  subresources: Record<string, string[]>;
  scale?: ScaleSubresource;
  /** Field labels accepted by field selectors beyond metadata.name and metadata.namespace. */
  fieldLabels: string[];
  /** Whether a spec change bumps metadata.generation (kinds with a spec/status split). */
  hasGeneration: boolean;
}

const ALL_VERBS: Verb[] = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const STATUS = ['get', 'patch', 'update'];
const SCALE = ['get', 'patch', 'update'];
const REPLICAS: ScaleSubresource = { specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.replicas', labelSelectorPath: 'status.selector' };

interface Spec {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  verbs?: Verb[];
  subresources?: Record<string, string[]>;
  scale?: ScaleSubresource;
  fieldLabels?: string[];
  hasGeneration?: boolean;
}

function def(s: Spec): ResourceType {
  return {
    group: s.group,
    version: s.version,
    kind: s.kind,
    listKind: `${s.kind}List`,
    plural: s.plural,
    singular: s.kind.toLowerCase(),
    namespaced: s.namespaced,
    shortNames: s.shortNames ?? [],
    categories: s.categories ?? [],
    verbs: s.verbs ?? ALL_VERBS,
    subresources: s.subresources ?? {},
    ...(s.scale ? { scale: s.scale } : {}),
    fieldLabels: s.fieldLabels ?? [],
    hasGeneration: s.hasGeneration ?? false,
  };
}

export const RESOURCES: readonly ResourceType[] = [
  // core/v1
  def({ group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false, shortNames: ['ns'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], subresources: { status: STATUS, finalize: ['update'] }, fieldLabels: ['status.phase'] }),
  def({
    group: '', version: 'v1', kind: 'Pod', plural: 'pods', namespaced: true, shortNames: ['po'], categories: ['all'],
    subresources: { status: STATUS, binding: ['create'], log: ['get'], exec: ['create', 'get'], attach: ['create', 'get'], portforward: ['create', 'get'], eviction: ['create'], ephemeralcontainers: ['get', 'patch', 'update'], proxy: ['create', 'delete', 'get', 'patch', 'update'] },
    fieldLabels: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.podIPs', 'status.nominatedNodeName'],
  }),
  def({ group: '', version: 'v1', kind: 'Service', plural: 'services', namespaced: true, shortNames: ['svc'], categories: ['all'], verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'], subresources: { status: STATUS, proxy: ['create', 'delete', 'get', 'patch', 'update'] } }),
  def({ group: '', version: 'v1', kind: 'Endpoints', plural: 'endpoints', namespaced: true, shortNames: ['ep'] }),
  def({ group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true, shortNames: ['cm'] }),
  def({ group: '', version: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true, fieldLabels: ['type'] }),
  def({
    group: '', version: 'v1', kind: 'Event', plural: 'events', namespaced: true, shortNames: ['ev'],
    fieldLabels: ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'],
  }),
  def({ group: '', version: 'v1', kind: 'Node', plural: 'nodes', namespaced: false, shortNames: ['no'], subresources: { status: STATUS, proxy: ['create', 'delete', 'get', 'patch', 'update'] }, fieldLabels: ['spec.unschedulable'] }),
  def({ group: '', version: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true, shortNames: ['sa'], subresources: { token: ['create'] } }),
  def({ group: '', version: 'v1', kind: 'PersistentVolume', plural: 'persistentvolumes', namespaced: false, shortNames: ['pv'], subresources: { status: STATUS } }),
  def({ group: '', version: 'v1', kind: 'PersistentVolumeClaim', plural: 'persistentvolumeclaims', namespaced: true, shortNames: ['pvc'], subresources: { status: STATUS } }),
  // apps/v1
  def({ group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', namespaced: true, shortNames: ['deploy'], categories: ['all'], subresources: { status: STATUS, scale: SCALE }, scale: REPLICAS, hasGeneration: true }),
  def({ group: 'apps', version: 'v1', kind: 'ReplicaSet', plural: 'replicasets', namespaced: true, shortNames: ['rs'], categories: ['all'], subresources: { status: STATUS, scale: SCALE }, scale: REPLICAS, hasGeneration: true, fieldLabels: ['status.replicas'] }),
  def({ group: 'apps', version: 'v1', kind: 'StatefulSet', plural: 'statefulsets', namespaced: true, shortNames: ['sts'], categories: ['all'], subresources: { status: STATUS, scale: SCALE }, scale: REPLICAS, hasGeneration: true }),
  def({ group: 'apps', version: 'v1', kind: 'DaemonSet', plural: 'daemonsets', namespaced: true, shortNames: ['ds'], categories: ['all'], subresources: { status: STATUS }, hasGeneration: true }),
  def({ group: 'apps', version: 'v1', kind: 'ControllerRevision', plural: 'controllerrevisions', namespaced: true }),
  // batch/v1
  def({ group: 'batch', version: 'v1', kind: 'Job', plural: 'jobs', namespaced: true, categories: ['all'], subresources: { status: STATUS }, hasGeneration: true, fieldLabels: ['status.successful'] }),
  def({ group: 'batch', version: 'v1', kind: 'CronJob', plural: 'cronjobs', namespaced: true, shortNames: ['cj'], categories: ['all'], subresources: { status: STATUS }, hasGeneration: true }),
  // autoscaling/v2 (autoscaling/v1 appears only as the Scale kind of the scale subresources)
  def({ group: 'autoscaling', version: 'v2', kind: 'HorizontalPodAutoscaler', plural: 'horizontalpodautoscalers', namespaced: true, shortNames: ['hpa'], categories: ['all'], subresources: { status: STATUS }, hasGeneration: true }),
  // coordination.k8s.io/v1
  def({ group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', plural: 'leases', namespaced: true }),
  // discovery.k8s.io/v1
  def({ group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice', plural: 'endpointslices', namespaced: true, fieldLabels: ['addressType'] }),
  // storage.k8s.io/v1
  def({ group: 'storage.k8s.io', version: 'v1', kind: 'StorageClass', plural: 'storageclasses', namespaced: false, shortNames: ['sc'] }),
  // apiextensions.k8s.io/v1: read-only until Skiff serves custom resources. Listing them tells
  // clients (kubectl's validation looks) truthfully that none exist; creating one is refused.
  def({ group: 'apiextensions.k8s.io', version: 'v1', kind: 'CustomResourceDefinition', plural: 'customresourcedefinitions', namespaced: false, shortNames: ['crd', 'crds'], categories: ['api-extensions'], verbs: ['get', 'list', 'watch'], subresources: { status: ['get'] } }),
];

const byPath = new Map<string, ResourceType>();
const byKind = new Map<string, ResourceType>();
for (const r of RESOURCES) {
  byPath.set(`${r.group}/${r.version}/${r.plural}`, r);
  byKind.set(`${apiVersionOf(r.group, r.version)}/${r.kind}`, r);
}

export function findResource(group: string, version: string, plural: string): ResourceType | undefined {
  return byPath.get(`${group}/${version}/${plural}`);
}

export function findResourceByKind(apiVersion: string, kind: string): ResourceType | undefined {
  return byKind.get(`${apiVersion}/${kind}`);
}

export function resourceFor(group: string, version: string, plural: string): ResourceType {
  const r = findResource(group, version, plural);
  if (!r) throw new Error(`unknown resource ${group}/${version}/${plural}`);
  return r;
}

export function apiVersionOfResource(r: ResourceType): string {
  return apiVersionOf(r.group, r.version);
}

/** Group versions served, in the order discovery lists them (core first, then by group). */
export function groupVersions(): { group: string; version: string }[] {
  const seen = new Set<string>();
  const out: { group: string; version: string }[] = [];
  for (const r of RESOURCES) {
    const k = `${r.group}/${r.version}`;
    if (!seen.has(k)) {
      seen.add(k);
      out.push({ group: r.group, version: r.version });
    }
  }
  return out;
}

/** The storage key prefix of a resource, as kube-apiserver lays keys out in etcd:
 * `/registry/<plural>/[<namespace>/]<name>`, with its historical exceptions (nodes are
 * "minions"; services and endpoints share `/registry/services/`). */
export function keyPrefix(r: ResourceType, namespace?: string): string {
  const base = `/registry/${STORAGE_PATH[r.plural] ?? r.plural}/`;
  return namespace ? `${base}${namespace}/` : base;
}

export function objectKey(r: ResourceType, namespace: string | undefined, name: string): string {
  return r.namespaced ? `${keyPrefix(r, namespace)}${name}` : `${keyPrefix(r)}${name}`;
}

const STORAGE_PATH: Record<string, string> = { nodes: 'minions', services: 'services/specs', endpoints: 'services/endpoints' };
