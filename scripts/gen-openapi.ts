// Generates generated/openapi-schemas.json: the OpenAPI v3 component schemas of every kind in
// src/api/kinds.ts (plus their lists, autoscaling/v1 Scale and meta/v1 Status, DeleteOptions,
// Patch, WatchEvent), named and shaped as kube-apiserver publishes them under /openapi/v3.
//
// Why derived, not hand-written: `kubernetes-types` carries every type with its field docs, so
// the TypeScript compiler's parser gives names, nesting, required fields and descriptions for
// free. What the .d.ts files lose is Go-only knowledge — struct tags and markers (patch
// strategies, list/map types) and integer widths — so that lives in the table below, read
// from kubernetes/kubernetes staging/src/k8s.io/api/*/types.go and apimachinery meta/v1 types.go
// (int64 widths cross-checked against @kubernetes/client-node, generated from the real spec).
//
// Run: tsx scripts/gen-openapi.ts (first step of `npm run build`).
import type * as TS from 'typescript';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RESOURCES } from '../src/api/kinds.js';

type Schema = Record<string, unknown>;

// require, not import: an ESM import of the 9 MB CommonJS compiler makes Node scan it for
// named exports, which alone costs about a second.
const require = createRequire(import.meta.url);
const ts = require('typescript') as typeof TS;

// Field extensions per module and type. Tokens: patch=<strategy>, key=<mergeKey>,
// list=atomic|set|map, keys=<k1,k2> (list-map keys), map=atomic|granular, int64, byte (map
// values are base64 bytes). '.' holds the struct's own marker (+structType=atomic).
const EXT: Record<string, Record<string, Record<string, string>>> = {
  'apps/v1': {
    ControllerRevision: { revision: 'int64' },
    DaemonSetStatus: { conditions: 'patch=merge key=type list=map keys=type', observedGeneration: 'int64' },
    DeploymentSpec: { strategy: 'patch=retainKeys' },
    DeploymentStatus: { conditions: 'patch=merge key=type list=map keys=type', observedGeneration: 'int64' },
    ReplicaSetStatus: { conditions: 'patch=merge key=type list=map keys=type', observedGeneration: 'int64' },
    StatefulSetSpec: { volumeClaimTemplates: 'list=atomic' },
    StatefulSetStatus: { conditions: 'patch=merge key=type list=map keys=type', observedGeneration: 'int64' },
  },
  'core/v1': {
    Capabilities: { add: 'list=atomic', drop: 'list=atomic' },
    CephFSPersistentVolumeSource: { monitors: 'list=atomic' },
    CephFSVolumeSource: { monitors: 'list=atomic' },
    ConfigMap: { binaryData: 'byte' },
    ConfigMapKeySelector: { '.': 'map=atomic' },
    ConfigMapProjection: { items: 'list=atomic' },
    ConfigMapVolumeSource: { items: 'list=atomic' },
    Container: { command: 'list=atomic', args: 'list=atomic', ports: 'patch=merge key=containerPort list=map keys=containerPort,protocol', envFrom: 'list=atomic', env: 'patch=merge key=name list=map keys=name', resizePolicy: 'list=atomic', volumeMounts: 'patch=merge key=mountPath list=map keys=mountPath', volumeDevices: 'patch=merge key=devicePath list=map keys=devicePath' },
    ContainerImage: { names: 'list=atomic', sizeBytes: 'int64' },
    DownwardAPIProjection: { items: 'list=atomic' },
    DownwardAPIVolumeSource: { items: 'list=atomic' },
    EndpointAddress: { '.': 'map=atomic' },
    EndpointPort: { '.': 'map=atomic' },
    EndpointSubset: { addresses: 'list=atomic', notReadyAddresses: 'list=atomic', ports: 'list=atomic' },
    Endpoints: { subsets: 'list=atomic' },
    EphemeralContainer: { command: 'list=atomic', args: 'list=atomic', ports: 'patch=merge key=containerPort list=map keys=containerPort,protocol', envFrom: 'list=atomic', env: 'patch=merge key=name list=map keys=name', resizePolicy: 'list=atomic', volumeMounts: 'patch=merge key=mountPath list=map keys=mountPath', volumeDevices: 'patch=merge key=devicePath list=map keys=devicePath' },
    ExecAction: { command: 'list=atomic' },
    FCVolumeSource: { targetWWNs: 'list=atomic', wwids: 'list=atomic' },
    HTTPGetAction: { httpHeaders: 'list=atomic' },
    HostAlias: { hostnames: 'list=atomic' },
    ISCSIPersistentVolumeSource: { portals: 'list=atomic' },
    ISCSIVolumeSource: { portals: 'list=atomic' },
    LoadBalancerIngress: { ports: 'list=atomic' },
    LoadBalancerStatus: { ingress: 'list=atomic' },
    LocalObjectReference: { '.': 'map=atomic' },
    NamespaceSpec: { finalizers: 'list=atomic' },
    NamespaceStatus: { conditions: 'patch=merge key=type list=map keys=type' },
    NodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: 'list=atomic' },
    NodeSelector: { '.': 'map=atomic', nodeSelectorTerms: 'list=atomic' },
    NodeSelectorRequirement: { values: 'list=atomic' },
    NodeSelectorTerm: { '.': 'map=atomic', matchExpressions: 'list=atomic', matchFields: 'list=atomic' },
    NodeSpec: { podCIDRs: 'patch=merge list=set', taints: 'list=atomic' },
    NodeStatus: { conditions: 'patch=merge key=type list=map keys=type', addresses: 'patch=merge key=type list=map keys=type', images: 'list=atomic', volumesInUse: 'list=atomic', volumesAttached: 'list=atomic' },
    ObjectFieldSelector: { '.': 'map=atomic' },
    ObjectReference: { '.': 'map=atomic' },
    PersistentVolumeClaimSpec: { accessModes: 'list=atomic' },
    PersistentVolumeClaimStatus: { accessModes: 'list=atomic', conditions: 'patch=merge key=type list=map keys=type', allocatedResourceStatuses: 'map=granular' },
    PersistentVolumeSpec: { accessModes: 'list=atomic', claimRef: 'map=granular', mountOptions: 'list=atomic' },
    PodAffinity: { requiredDuringSchedulingIgnoredDuringExecution: 'list=atomic', preferredDuringSchedulingIgnoredDuringExecution: 'list=atomic' },
    PodAffinityTerm: { namespaces: 'list=atomic', matchLabelKeys: 'list=atomic', mismatchLabelKeys: 'list=atomic' },
    PodAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: 'list=atomic', preferredDuringSchedulingIgnoredDuringExecution: 'list=atomic' },
    PodDNSConfig: { nameservers: 'list=atomic', searches: 'list=atomic', options: 'list=atomic' },
    PodSecurityContext: { supplementalGroups: 'list=atomic int64', sysctls: 'list=atomic', fsGroup: 'int64', runAsGroup: 'int64', runAsUser: 'int64' },
    PodSpec: { volumes: 'patch=merge,retainKeys key=name list=map keys=name', initContainers: 'patch=merge key=name list=map keys=name', containers: 'patch=merge key=name list=map keys=name', ephemeralContainers: 'patch=merge key=name list=map keys=name', nodeSelector: 'map=atomic', imagePullSecrets: 'patch=merge key=name list=map keys=name', tolerations: 'list=atomic', hostAliases: 'patch=merge key=ip list=map keys=ip', readinessGates: 'list=atomic', topologySpreadConstraints: 'patch=merge key=topologyKey list=map keys=topologyKey,whenUnsatisfiable', schedulingGates: 'patch=merge key=name list=map keys=name', resourceClaims: 'patch=merge,retainKeys key=name list=map keys=name', activeDeadlineSeconds: 'int64', terminationGracePeriodSeconds: 'int64' },
    PodStatus: { conditions: 'patch=merge key=type list=map keys=type', hostIPs: 'patch=merge key=ip list=atomic', podIPs: 'patch=merge key=ip list=map keys=ip', initContainerStatuses: 'list=atomic', containerStatuses: 'list=atomic', ephemeralContainerStatuses: 'list=atomic', resourceClaimStatuses: 'patch=merge,retainKeys key=name list=map keys=name' },
    Probe: { terminationGracePeriodSeconds: 'int64' },
    ProjectedVolumeSource: { sources: 'list=atomic' },
    RBDPersistentVolumeSource: { monitors: 'list=atomic' },
    RBDVolumeSource: { monitors: 'list=atomic' },
    ResourceFieldSelector: { '.': 'map=atomic' },
    ResourceRequirements: { claims: 'list=map keys=name' },
    Secret: { data: 'byte' },
    SecretKeySelector: { '.': 'map=atomic' },
    SecretProjection: { items: 'list=atomic' },
    SecretReference: { '.': 'map=atomic' },
    SecretVolumeSource: { items: 'list=atomic' },
    SecurityContext: { runAsGroup: 'int64', runAsUser: 'int64' },
    ServiceAccount: { secrets: 'patch=merge key=name list=map keys=name', imagePullSecrets: 'list=atomic' },
    ServiceAccountTokenProjection: { expirationSeconds: 'int64' },
    ServiceSpec: { ports: 'patch=merge key=port list=map keys=port,protocol', selector: 'map=atomic', clusterIPs: 'list=atomic', externalIPs: 'list=atomic', loadBalancerSourceRanges: 'list=atomic', ipFamilies: 'list=atomic' },
    ServiceStatus: { conditions: 'patch=merge key=type list=map keys=type' },
    SleepAction: { seconds: 'int64' },
    Toleration: { tolerationSeconds: 'int64' },
    TopologySelectorLabelRequirement: { values: 'list=atomic' },
    TopologySelectorTerm: { '.': 'map=atomic', matchLabelExpressions: 'list=atomic' },
    TopologySpreadConstraint: { matchLabelKeys: 'list=atomic' },
    TypedLocalObjectReference: { '.': 'map=atomic' },
  },
  'meta/v1': {
    Condition: { observedGeneration: 'int64' },
    DeleteOptions: { dryRun: 'list=atomic', gracePeriodSeconds: 'int64' },
    LabelSelector: { '.': 'map=atomic', matchExpressions: 'list=atomic' },
    LabelSelectorRequirement: { values: 'list=atomic' },
    ListMeta: { remainingItemCount: 'int64' },
    ObjectMeta: { ownerReferences: 'patch=merge key=uid list=map keys=uid', finalizers: 'patch=merge list=set', managedFields: 'list=atomic', deletionGracePeriodSeconds: 'int64', generation: 'int64' },
    OwnerReference: { '.': 'map=atomic' },
    Status: { details: 'list=atomic' },
    StatusDetails: { causes: 'list=atomic' },
  },
  'batch/v1': {
    CronJobSpec: { startingDeadlineSeconds: 'int64' },
    CronJobStatus: { active: 'list=atomic' },
    JobSpec: { activeDeadlineSeconds: 'int64' },
    JobStatus: { conditions: 'patch=merge key=type list=atomic' },
    PodFailurePolicy: { rules: 'list=atomic' },
    PodFailurePolicyOnExitCodesRequirement: { values: 'list=set' },
    PodFailurePolicyRule: { onPodConditions: 'list=atomic' },
    SuccessPolicy: { rules: 'list=atomic' },
    UncountedTerminatedPods: { succeeded: 'list=set', failed: 'list=set' },
  },
  'autoscaling/v2': {
    HPAScalingRules: { policies: 'list=atomic' },
    HorizontalPodAutoscalerSpec: { metrics: 'list=atomic' },
    HorizontalPodAutoscalerStatus: { currentMetrics: 'list=atomic', conditions: 'patch=merge key=type list=map keys=type', observedGeneration: 'int64' },
  },
  'discovery/v1': {
    Endpoint: { addresses: 'list=set' },
    EndpointHints: { forZones: 'list=atomic' },
    EndpointPort: { '.': 'map=atomic' },
    EndpointSlice: { endpoints: 'list=atomic', ports: 'list=atomic' },
  },
  'storage/v1': {
    StorageClass: { mountOptions: 'list=atomic', allowedTopologies: 'list=atomic' },
  },
};

const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
// Upstream's doc comment of intstr.IntOrString (the .d.ts inlines the type as `number | string`).
const INT_OR_STRING_DOC = 'IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type.  This allows you to have, for example, a JSON field that can accept a name or number.';
const PACKAGES: Record<string, string> = { 'meta/v1': 'io.k8s.apimachinery.pkg.apis.meta.v1', 'api/resource': 'io.k8s.apimachinery.pkg.api.resource', runtime: 'io.k8s.apimachinery.pkg.runtime', 'apiextensions/v1': 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1' };

const typesDir = dirname(require.resolve('kubernetes-types/package.json'));

interface Module {
  name: string;
  sf: TS.SourceFile;
  decls: Map<string, TS.InterfaceDeclaration | TS.TypeAliasDeclaration>;
  imports: Map<string, string>;
}
const modules = new Map<string, Module>();

function loadModule(name: string): Module {
  const cached = modules.get(name);
  if (cached) return cached;
  const file = join(typesDir, `${name}.d.ts`);
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, false);
  const mod: Module = { name, sf, decls: new Map(), imports: new Map() };
  for (const st of sf.statements) {
    if (ts.isInterfaceDeclaration(st) || ts.isTypeAliasDeclaration(st)) mod.decls.set(st.name.text, st);
    else if (ts.isImportDeclaration(st) && ts.isStringLiteral(st.moduleSpecifier)) {
      const from = posix.normalize(posix.join(posix.dirname(name), st.moduleSpecifier.text));
      const named = st.importClause?.namedBindings;
      if (named && ts.isNamedImports(named)) for (const el of named.elements) mod.imports.set(el.name.text, from);
    }
  }
  modules.set(name, mod);
  return mod;
}

/** The doc comment of a declaration, without comment markers; paragraphs kept as in upstream. */
function docOf(mod: Module, node: TS.Node): string | undefined {
  const ranges = ts.getLeadingCommentRanges(mod.sf.text, node.pos) ?? [];
  const last = ranges.filter((r) => mod.sf.text.startsWith('/**', r.pos)).pop();
  if (!last) return undefined;
  const lines = mod.sf.text.slice(last.pos + 3, last.end - 2).split('\n').map((l) => l.replace(/^\s*\* ?/, '').trimEnd());
  while (lines.length && !lines[0]!.trim()) lines.shift();
  while (lines.length && !lines[lines.length - 1]!.trim()) lines.pop();
  const text = lines.join('\n').trim();
  return text || undefined;
}

const schemaName = (mod: string, type: string) => `${PACKAGES[mod] ?? `io.k8s.api.${mod.replace('/', '.')}`}.${type}`;
const ref = (name: string) => `#/components/schemas/${name}`;
const schemas = new Map<string, Schema>();

function tokens(mod: string, type: string, field: string): Map<string, string> {
  const spec = EXT[mod]?.[type]?.[field];
  return new Map((spec ? spec.split(' ') : []).map((t) => [t.split('=')[0]!, t.split('=')[1] ?? '']));
}

/** Emits the schema of a named type (and, recursively, of every type it references). */
function emit(modName: string, type: string): string {
  const name = schemaName(modName, type);
  if (schemas.has(name)) return name;
  const mod = loadModule(modName);
  const decl = mod.decls.get(type);
  if (!decl) throw new Error(`${modName}: no type ${type}`);
  const s: Schema = {};
  schemas.set(name, s); // before recursing: types may be recursive
  const description = docOf(mod, decl);
  if (description) s.description = description;
  if (type === 'JSONSchemaProps') {
    // A JSON Schema itself: its own fields ("$ref", "$schema", …) confuse every $ref walker;
    // Skiff does not serve custom resources yet, so it stays opaque, as upstream's JSON type is.
    s.type = 'object';
    s['x-kubernetes-preserve-unknown-fields'] = true;
    return name;
  }
  if (ts.isTypeAliasDeclaration(decl)) {
    if (type === 'Quantity') s.oneOf = [{ type: 'string' }, { type: 'number' }];
    else if (type === 'Time' || type === 'MicroTime') Object.assign(s, { type: 'string', format: 'date-time' });
    else if (modName === 'apiextensions/v1') s['x-kubernetes-preserve-unknown-fields'] = true; // JSON, JSONSchemaPropsOr…: any JSON
    else throw new Error(`${modName}: unsupported alias ${type}`);
    return name;
  }
  const properties: Record<string, Schema> = {};
  const required: string[] = [];
  for (const m of decl.members) {
    if (!ts.isPropertySignature(m) || !m.type) throw new Error(`${name}: unsupported member`);
    const field = ts.isStringLiteral(m.name) || ts.isIdentifier(m.name) ? m.name.text : m.name.getText(mod.sf);
    if (!m.questionToken) required.push(field);
    const ext = tokens(modName, type, field);
    const p = withDescription(typeSchema(mod, m.type, ext), docOf(mod, m));
    if (ext.has('patch')) p['x-kubernetes-patch-strategy'] = ext.get('patch');
    if (ext.has('key')) p['x-kubernetes-patch-merge-key'] = ext.get('key');
    if (ext.has('list')) p['x-kubernetes-list-type'] = ext.get('list');
    if (ext.has('keys')) p['x-kubernetes-list-map-keys'] = ext.get('keys')!.split(',');
    if (ext.has('map')) p['x-kubernetes-map-type'] = ext.get('map');
    properties[field] = p;
  }
  if (Object.keys(properties).length) s.properties = properties;
  if (required.length) s.required = required;
  s.type = 'object';
  const own = tokens(modName, type, '.');
  if (own.has('map')) s['x-kubernetes-map-type'] = own.get('map');
  return name;
}

/** A field's schema: refs wrapped in allOf so the description can sit beside them, as upstream. */
function withDescription(s: Schema, description: string | undefined): Schema {
  if (typeof s.$ref === 'string') return description ? { allOf: [s], description } : s;
  return description ? { description, ...s } : s;
}

function typeSchema(mod: Module, node: TS.TypeNode, ext: Map<string, string>): Schema {
  switch (node.kind) {
    case ts.SyntaxKind.StringKeyword:
      return { type: 'string' };
    case ts.SyntaxKind.BooleanKeyword:
      return { type: 'boolean' };
    case ts.SyntaxKind.NumberKeyword:
      return { type: 'integer', format: ext.has('int64') ? 'int64' : 'int32' };
    case ts.SyntaxKind.AnyKeyword:
      return {};
  }
  if (ts.isLiteralTypeNode(node)) return { type: 'string' }; // apiVersion/kind constants: no enum upstream
  if (ts.isUnionTypeNode(node)) {
    const kinds = node.types.map((t) => t.kind).sort();
    if (kinds.length === 2 && kinds.includes(ts.SyntaxKind.NumberKeyword) && kinds.includes(ts.SyntaxKind.StringKeyword)) return intOrString();
    if (node.types.every((t) => ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal))) {
      return { type: 'string', enum: node.types.map((t) => ((t as TS.LiteralTypeNode).literal as TS.StringLiteral).text) };
    }
    throw new Error(`${mod.name}: unsupported union ${node.getText(mod.sf)}`);
  }
  if (ts.isArrayTypeNode(node)) return { type: 'array', items: typeSchema(mod, node.elementType, ext) };
  if (ts.isTypeLiteralNode(node)) {
    const index = node.members.find(ts.isIndexSignatureDeclaration);
    if (!index?.type || node.members.length !== 1) throw new Error(`${mod.name}: unsupported literal type ${node.getText(mod.sf)}`);
    const values = ext.has('byte') ? { type: 'string', format: 'byte' } : typeSchema(mod, index.type, ext);
    return { type: 'object', additionalProperties: values };
  }
  if (ts.isTypeReferenceNode(node)) {
    const id = node.typeName.getText(mod.sf);
    if (id === 'Array' && node.typeArguments?.length === 1) return { type: 'array', items: typeSchema(mod, node.typeArguments[0]!, ext) };
    const from = mod.decls.has(id) ? mod.name : mod.imports.get(id);
    if (!from) throw new Error(`${mod.name}: unresolved type ${id}`);
    return { $ref: ref(emit(from, id)) };
  }
  throw new Error(`${mod.name}: unsupported type ${node.getText(mod.sf)}`);
}

function intOrString(): Schema {
  schemas.set(INT_OR_STRING, { description: INT_OR_STRING_DOC, format: 'int-or-string', oneOf: [{ type: 'integer' }, { type: 'string' }], 'x-kubernetes-int-or-string': true });
  return { $ref: ref(INT_OR_STRING) };
}

/** The table must name real fields: a typo would silently drop a merge rule. */
function checkTable(): void {
  for (const [mod, types] of Object.entries(EXT)) {
    for (const [type, fields] of Object.entries(types)) {
      const decl = loadModule(mod).decls.get(type);
      if (!decl || !ts.isInterfaceDeclaration(decl)) throw new Error(`extension table: no interface ${mod} ${type}`);
      const names = new Set(decl.members.map((m) => m.name?.getText(loadModule(mod).sf)));
      for (const f of Object.keys(fields)) if (f !== '.' && !names.has(f)) throw new Error(`extension table: no field ${mod} ${type}.${f}`);
    }
  }
}

const moduleOf = (group: string, version: string) => `${group === '' ? 'core' : group.split('.')[0]}/${version}`;
const gvk = (group: string, version: string, kind: string) => ({ group, kind, version });

function generate(): Record<string, Schema> {
  checkTable();
  const servedGVs = new Map<string, { group: string; version: string }>();
  for (const r of RESOURCES) {
    const mod = moduleOf(r.group, r.version);
    schemas.get(emit(mod, r.kind))!['x-kubernetes-group-version-kind'] = [gvk(r.group, r.version, r.kind)];
    schemas.get(emit(mod, r.listKind))!['x-kubernetes-group-version-kind'] = [gvk(r.group, r.version, r.listKind)];
    servedGVs.set(`${r.group}/${r.version}`, { group: r.group, version: r.version });
  }
  schemas.get(emit('autoscaling/v1', 'Scale'))!['x-kubernetes-group-version-kind'] = [gvk('autoscaling', 'v1', 'Scale')];
  servedGVs.set('autoscaling/v1', { group: 'autoscaling', version: 'v1' });
  schemas.get(emit('meta/v1', 'Status'))!['x-kubernetes-group-version-kind'] = [gvk('', 'v1', 'Status')];
  emit('meta/v1', 'Patch');
  // Every served group accepts DeleteOptions and streams WatchEvents, as upstream lists them.
  const gvs = [...servedGVs.values()].sort((a, b) => a.group.localeCompare(b.group) || a.version.localeCompare(b.version));
  for (const kind of ['DeleteOptions', 'WatchEvent']) {
    schemas.get(emit('meta/v1', kind))!['x-kubernetes-group-version-kind'] = gvs.map((gv) => gvk(gv.group, gv.version, kind));
  }
  addNewerFields();
  return Object.fromEntries([...schemas.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/**
 * Fields Kubernetes 1.31 and 1.32 added that kubernetes-types 1.30 (the newest on npm) lacks.
 * Without them a 1.32 manifest using them would be refused as having unknown fields.
 * Descriptions are Kubernetes' own, shortened to their first sentence.
 */
function addNewerFields(): void {
  const add = (type: string, field: string, schema: Schema) => {
    const s = schemas.get(type);
    if (!s?.properties) throw new Error(`addNewerFields: no schema ${type}`);
    (s.properties as Record<string, Schema>)[field] = schema;
  };
  add('io.k8s.api.core.v1.PodSecurityContext', 'supplementalGroupsPolicy', {
    type: 'string',
    description: 'Defines how supplemental groups of the first container processes are calculated. Valid values are "Merge" and "Strict". If not specified, "Merge" is used.',
  });
  add('io.k8s.api.core.v1.PodSecurityContext', 'seLinuxChangePolicy', {
    type: 'string',
    description: 'seLinuxChangePolicy defines how the container\'s SELinux label is applied to all volumes used by the Pod. Valid values are "MountOption" and "Recursive".',
  });
  add('io.k8s.api.core.v1.PodSpec', 'resources', {
    allOf: [{ $ref: ref('io.k8s.api.core.v1.ResourceRequirements') }],
    description: 'Resources is the total amount of CPU and Memory resources required by all containers in the pod. It supports specifying Requests and Limits for "cpu" and "memory" resource names only.',
  });
}

/** Sorted keys at every level, as upstream serializes (Go maps), so the output is stable. */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Schema)[k])]));
  return v;
}

const out = fileURLToPath(new URL('../generated/openapi-schemas.json', import.meta.url));
const all = generate();
mkdirSync(dirname(out), { recursive: true });
// One schema per line: small, yet diffable.
const body = Object.entries(all).map(([n, s]) => `${JSON.stringify(n)}:${JSON.stringify(sortKeys(s))}`).join(',\n');
writeFileSync(out, `{\n${body}\n}\n`);
console.log(`gen-openapi: ${Object.keys(all).length} schemas -> ${out}`);
