// The /openapi/v3 discovery documents: a root listing one document per group/version, and per
// group/version the REST paths of its resources plus every schema they reference. kubectl
// needs them for `explain` (schemas with descriptions, found by x-kubernetes-group-version-kind)
// and for apply/create (a PATCH operation per kind carrying the GVK extension and a
// fieldValidation parameter tells it the server validates, so it sends fieldValidation=Strict).
//
// PATCH request bodies leave out application/strategic-merge-patch+json on purpose: with it,
// kubectl would compute strategic merge patches from these schemas; without it, it uses its own
// compiled-in Go types, which carry the complete patch metadata (see shared KUBECTL.md).
import { createHash } from 'node:crypto';
import { RESOURCES, type ResourceType } from '../api/kinds.js';
import { allSchemas, schemaNameFor, type JsonSchema } from '../api/schema.js';
import { apiVersionOf } from '../api/types.js';

/** The Kubernetes version the documents describe (info.version, as kube-apiserver sets it). */
export const OPENAPI_INFO = { title: 'Kubernetes', version: 'v1.32.0' };

export interface OpenApiBody {
  /** The serialized JSON document, built once; send as is with Content-Type application/json. */
  body: string;
  /** Upper-case hex SHA-512 of `body`, as kube-openapi computes it. The root lists it as
   *  `?hash=`; send it as `ETag: "<etag>"`, and when a request's `hash` matches, the response
   *  may be cached forever (`Cache-Control: public, immutable`). */
  etag: string;
}

const REF = '#/components/schemas/';
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const SCALE = 'io.k8s.api.autoscaling.v1.Scale';

type Param = { name: string; in: 'query' | 'path'; description: string; schema: { type: string; uniqueItems: true }; required?: true };
const q = (name: string, type: string, description: string): Param => ({ description, in: 'query', name, schema: { type, uniqueItems: true } });

// Upstream's descriptions of the query parameters (from the *Options types in meta/v1).
const DRY_RUN = q('dryRun', 'string', 'When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed');
const FIELD_MANAGER_DOC = 'fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.';
const FIELD_MANAGER = q('fieldManager', 'string', FIELD_MANAGER_DOC);
const PATCH_FIELD_MANAGER = q('fieldManager', 'string', `${FIELD_MANAGER_DOC} This field is required for apply requests (application/apply-patch) but optional for non-apply patch types (JsonPatch, MergePatch, StrategicMergePatch).`);
const FIELD_VALIDATION = q('fieldValidation', 'string', 'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.');
const FORCE = q('force', 'boolean', 'Force is going to "force" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.');
const DELETE_PARAMS = [
  DRY_RUN,
  q('gracePeriodSeconds', 'integer', 'The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately. If this value is nil, the default grace period for the specified type will be used. Defaults to a per object value if not specified. zero means delete immediately.'),
  q('orphanDependents', 'boolean', 'Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7. Should the dependent objects be orphaned. If true/false, the "orphan" finalizer will be added to/removed from the object\'s finalizers list. Either this field or PropagationPolicy may be set, but not both.'),
  q('propagationPolicy', 'string', "Whether and how garbage collection will be performed. Either this field or OrphanDependents may be set, but not both. The default policy is decided by the existing finalizer set in the metadata.finalizers and the resource-specific default policy. Acceptable values are: 'Orphan' - orphan the dependents; 'Background' - allow the garbage collector to delete the dependents in the background; 'Foreground' - a cascading policy that deletes all dependents in the foreground."),
];
const RV_DOC = 'See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset';
const LIST_PARAMS = [
  q('allowWatchBookmarks', 'boolean', 'allowWatchBookmarks requests watch events with type "BOOKMARK". Servers that do not implement bookmarks may ignore this flag and bookmarks are sent at the server\'s discretion. Clients should not assume bookmarks are returned at any specific interval, nor may they assume the server will send any BOOKMARK event during a session. If this is not a watch, this field is ignored.'),
  q('continue', 'string', 'The continue option should be set when retrieving more results from the server. Since this value is server defined, clients may only use the continue value from a previous query result with identical query parameters (except for the value of continue) and the server may reject a continue value it does not recognize. If the specified continue value is no longer valid whether due to expiration (generally five to fifteen minutes) or a configuration change on the server, the server will respond with a 410 ResourceExpired error together with a continue token. If the client needs a consistent list, it must restart their list without the continue field. Otherwise, the client may send another list request with the token received with the 410 error, the server will respond with a list starting from the next key, but from the latest snapshot, which is inconsistent from the previous list results - objects that are created, modified, or deleted after the first list request will be included in the response, as long as their keys are after the "next key".\n\nThis field is not supported when watch is true. Clients may start a watch from the last resourceVersion value returned by the server and not miss any modifications.'),
  q('fieldSelector', 'string', 'A selector to restrict the list of returned objects by their fields. Defaults to everything.'),
  q('labelSelector', 'string', 'A selector to restrict the list of returned objects by their labels. Defaults to everything.'),
  q('limit', 'integer', 'limit is a maximum number of responses to return for a list call. If more items exist, the server will set the `continue` field on the list metadata to a value that can be used with the same initial query to retrieve the next set of results. Setting a limit may return fewer than the requested amount of items (up to zero items) in the event all requested objects are filtered out and clients should only use the presence of the continue field to determine whether more results are available. Servers may choose not to support the limit argument and will return all of the available results. If limit is specified and the continue field is empty, clients may assume that no more results are available. This field is not supported if watch is true.\n\nThe server guarantees that the objects returned when using continue will be identical to issuing a single list call without a limit - that is, no objects created, modified, or deleted after the first request is issued will be included in any subsequent continued requests. This is sometimes referred to as a consistent snapshot, and ensures that a client that is using limit to receive smaller chunks of a very large result can ensure they see all possible objects. If objects are updated during a chunked list the version of the object that was present at the time the first list result was calculated is returned.'),
  q('resourceVersion', 'string', `resourceVersion sets a constraint on what resource versions a request may be served from. ${RV_DOC}`),
  q('resourceVersionMatch', 'string', `resourceVersionMatch determines how resourceVersion is applied to list calls. It is highly recommended that resourceVersionMatch be set for list calls where resourceVersion is set ${RV_DOC}`),
  q('sendInitialEvents', 'boolean', '`sendInitialEvents=true` may be set together with `watch=true`. In that case, the watch stream will begin with synthetic events to produce the current state of objects in the collection. Once all such events have been sent, a synthetic "Bookmark" event  will be sent. The bookmark will report the ResourceVersion (RV) corresponding to the set of objects, and be marked with `"k8s.io/initial-events-end": "true"` annotation. Afterwards, the watch stream will proceed as usual, sending watch events corresponding to changes (subsequent to the RV) to objects watched.'),
  q('timeoutSeconds', 'integer', 'Timeout for the list/watch call. This limits the duration of the call, regardless of any activity or inactivity.'),
  q('watch', 'boolean', 'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications. Specify resourceVersion.'),
];
const PRETTY = q('pretty', 'string', "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget).");
const NAMESPACE: Param = { description: 'object name and auth scope, such as for teams and projects', in: 'path', name: 'namespace', required: true, schema: { type: 'string', uniqueItems: true } };
const nameParam = (what: string): Param => ({ description: `name of the ${what}`, in: 'path', name: 'name', required: true, schema: { type: 'string', uniqueItems: true } });

const PATCH_TYPES = ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json'];

const content = (schema: string, types = ['application/json']) => Object.fromEntries(types.map((t) => [t, { schema: { $ref: REF + schema } }]));
const response = (schema: string, description: string) => ({ content: content(schema), description });

const article = (kind: string) => `${/^[AEIOU]/.test(kind) ? 'an' : 'a'} ${kind}`;

/** `apps` → `Apps`, `coordination.k8s.io` → `Coordination`, `` → `Core`, as in operationIds. */
function groupWord(group: string): string {
  const g = group === '' ? 'core' : group.split('.')[0]!;
  return g[0]!.toUpperCase() + g.slice(1);
}

interface Op {
  verb: string;
  action: string;
  description: string;
  opId: string;
  gvk: { group: string; kind: string; version: string };
  params?: Param[];
  body?: Record<string, unknown>;
  responses: Record<string, unknown>;
}

function operation(tag: string, o: Op): Record<string, unknown> {
  return {
    description: o.description,
    operationId: o.opId,
    ...(o.params ? { parameters: o.params } : {}),
    ...(o.body ? { requestBody: o.body } : {}),
    responses: { ...o.responses, '401': { description: 'Unauthorized' } },
    tags: [tag],
    'x-kubernetes-action': o.action,
    'x-kubernetes-group-version-kind': o.gvk,
  };
}

/** The paths of one resource: collection, item, cross-namespace list, status and scale. */
function resourcePaths(r: ResourceType, schemaOf: (kind: string) => string, paths: Record<string, unknown>): void {
  const prefix = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  const tag = `${r.group === '' ? 'core' : r.group.split('.')[0]}_${r.version}`;
  const gv = `${groupWord(r.group)}${r.version[0]!.toUpperCase()}${r.version.slice(1)}`;
  const ns = r.namespaced ? 'Namespaced' : '';
  const gvk = { group: r.group, kind: r.kind, version: r.version };
  const kind = schemaOf(r.kind);
  const list = schemaOf(r.listKind);
  const can = (v: string) => r.verbs.includes(v as ResourceType['verbs'][number]);
  const coll = r.namespaced ? `${prefix}/namespaces/{namespace}/${r.plural}` : `${prefix}/${r.plural}`;
  const scope = r.namespaced ? [NAMESPACE, PRETTY] : [PRETTY];
  const writeParams = [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION];
  const written = (schema: string) => ({ '200': response(schema, 'OK'), '201': response(schema, 'Created') });

  const collOps: Op[] = [];
  if (can('list')) collOps.push({ verb: 'get', action: 'list', description: `list or watch objects of kind ${r.kind}`, opId: `list${gv}${ns}${r.kind}`, gvk, params: LIST_PARAMS, responses: { '200': response(list, 'OK') } });
  if (can('create')) collOps.push({ verb: 'post', action: 'post', description: `create ${article(r.kind)}`, opId: `create${gv}${ns}${r.kind}`, gvk, params: writeParams, body: { content: { '*/*': { schema: { $ref: REF + kind } } }, required: true }, responses: { ...written(kind), '202': response(kind, 'Accepted') } });
  if (can('deletecollection')) collOps.push({ verb: 'delete', action: 'deletecollection', description: `delete collection of ${r.kind}`, opId: `deletecollection${gv}${ns}${r.kind}`, gvk, params: [...DELETE_PARAMS, ...LIST_PARAMS.filter((p) => p.name !== 'watch' && p.name !== 'allowWatchBookmarks')], body: { content: { '*/*': { schema: { $ref: `${REF}${META}.DeleteOptions` } } } }, responses: { '200': response(`${META}.Status`, 'OK') } });
  if (collOps.length) paths[coll] = pathItem(tag, collOps, scope);

  // `what` names the {name} parameter, as upstream: "name of the Deployment", "name of the Scale".
  const item = (suffix: string, what: string, schema: string, opGvk: Op['gvk'], verbs: string[]) => {
    const ops: Op[] = [];
    const title = suffix ? `${suffix[0]!.toUpperCase()}${suffix.slice(1)}` : '';
    const of = suffix ? `${suffix} of the specified ${r.kind}` : `the specified ${r.kind}`;
    if (verbs.includes('get')) ops.push({ verb: 'get', action: 'get', description: `read ${of}`, opId: `read${gv}${ns}${r.kind}${title}`, gvk: opGvk, responses: { '200': response(schema, 'OK') } });
    if (verbs.includes('update')) ops.push({ verb: 'put', action: 'put', description: `replace ${of}`, opId: `replace${gv}${ns}${r.kind}${title}`, gvk: opGvk, params: writeParams, body: { content: { '*/*': { schema: { $ref: REF + schema } } }, required: true }, responses: written(schema) });
    if (verbs.includes('patch')) ops.push({ verb: 'patch', action: 'patch', description: `partially update ${of}`, opId: `patch${gv}${ns}${r.kind}${title}`, gvk: opGvk, params: [DRY_RUN, PATCH_FIELD_MANAGER, FIELD_VALIDATION, FORCE], body: { content: content(`${META}.Patch`, PATCH_TYPES), required: true }, responses: written(schema) });
    if (verbs.includes('delete')) ops.push({ verb: 'delete', action: 'delete', description: `delete ${article(r.kind)}`, opId: `delete${gv}${ns}${r.kind}`, gvk: opGvk, params: DELETE_PARAMS, body: { content: { '*/*': { schema: { $ref: `${REF}${META}.DeleteOptions` } } } }, responses: { '200': response(`${META}.Status`, 'OK'), '202': response(`${META}.Status`, 'Accepted') } });
    if (ops.length) paths[`${coll}/{name}${suffix ? `/${suffix}` : ''}`] = pathItem(tag, ops, [nameParam(what), ...scope]);
  };
  item('', r.kind, kind, gvk, r.verbs);
  if (r.subresources.status) item('status', r.kind, kind, gvk, r.subresources.status);
  if (r.subresources.scale) item('scale', 'Scale', SCALE, { group: 'autoscaling', kind: 'Scale', version: 'v1' }, r.subresources.scale);
  if (r.namespaced && can('list')) {
    paths[`${prefix}/${r.plural}`] = pathItem(tag, [{ verb: 'get', action: 'list', description: `list or watch objects of kind ${r.kind}`, opId: `list${gv}${r.kind}ForAllNamespaces`, gvk, responses: { '200': response(list, 'OK') } }], [...LIST_PARAMS, PRETTY]);
  }
}

function pathItem(tag: string, ops: Op[], parameters: Param[]): Record<string, unknown> {
  const item: Record<string, unknown> = { parameters };
  for (const o of ops) item[o.verb] = operation(tag, o);
  return item;
}

/** Every schema name `roots` reference, transitively. */
function closure(roots: Iterable<string>, schemas: Readonly<Record<string, JsonSchema>>): string[] {
  const seen = new Set<string>();
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(visit);
    if (!v || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v)) {
      if (k === '$ref' && typeof x === 'string' && x.startsWith(REF)) add(x.slice(REF.length));
      else visit(x);
    }
  };
  const add = (name: string) => {
    if (seen.has(name)) return;
    const s = schemas[name];
    if (!s) throw new Error(`openapi: no schema ${name}`);
    seen.add(name);
    visit(s);
  };
  for (const r of roots) add(r);
  return [...seen].sort();
}

let built: { root: OpenApiBody; docs: Map<string, OpenApiBody> } | undefined;

const serialize = (doc: unknown): OpenApiBody => {
  const body = JSON.stringify(doc);
  return { body, etag: createHash('sha512').update(body).digest('hex').toUpperCase() };
};

function build(): NonNullable<typeof built> {
  if (built) return built;
  const schemas = allSchemas();
  const byGV = new Map<string, ResourceType[]>();
  for (const r of RESOURCES) {
    const key = r.group === '' ? `api/${r.version}` : `apis/${r.group}/${r.version}`;
    byGV.set(key, [...(byGV.get(key) ?? []), r]);
  }
  const docs = new Map<string, OpenApiBody>();
  const rootPaths: Record<string, { serverRelativeURL: string }> = {};
  for (const [key, resources] of byGV) {
    const paths: Record<string, unknown> = {};
    for (const r of resources) {
      const schemaOf = (kind: string) => {
        const name = schemaNameFor(apiVersionOf(r.group, r.version), kind);
        if (!name) throw new Error(`openapi: no schema for ${apiVersionOf(r.group, r.version)} ${kind}; regenerate with \`npm run build\``);
        return name;
      };
      resourcePaths(r, schemaOf, paths);
    }
    const sortedPaths = Object.fromEntries(Object.keys(paths).sort().map((p) => [p, paths[p]]));
    const names = closure([`${META}.Status`, `${META}.DeleteOptions`, `${META}.Patch`, ...refsIn(sortedPaths)], schemas);
    const doc = { openapi: '3.0.0', info: OPENAPI_INFO, paths: sortedPaths, components: { schemas: Object.fromEntries(names.map((n) => [n, schemas[n]])) } };
    const out = serialize(doc);
    docs.set(key, out);
    rootPaths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${out.etag}` };
  }
  built = { root: serialize({ paths: rootPaths }), docs };
  return built;
}

function refsIn(v: unknown, out: string[] = []): string[] {
  if (Array.isArray(v)) v.forEach((x) => refsIn(x, out));
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k === '$ref' && typeof x === 'string') out.push(x.slice(REF.length));
      else refsIn(x, out);
    }
  }
  return out;
}

/** GET /openapi/v3: `{"paths":{"api/v1":{"serverRelativeURL":"/openapi/v3/api/v1?hash=…"},…}}`,
 *  one entry per served group/version, in discovery order. Built on first call, then cached. */
export function openApiV3Root(): OpenApiBody {
  return build().root;
}

/** GET /openapi/v3/<groupVersionPath> (`api/v1`, `apis/apps/v1`; a leading `/` is tolerated):
 *  the group/version's document, or undefined when it is not served (answer 404). */
export function openApiV3Document(groupVersionPath: string): OpenApiBody | undefined {
  return build().docs.get(groupVersionPath.replace(/^\/+|\/+$/g, ''));
}
