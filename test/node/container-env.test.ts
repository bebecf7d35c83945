// The container environment as the kubelet builds it: `$(VAR)` expansion checked against
// upstream's own table (third_party/forked/golang/expansion/expand_test.go), then every env source,
// its errors in the kubelet's words, and argv.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { containerArgv, expandVars, resolveEnv, type EnvDeps } from '../../src/node/container-env.js';

test('$(VAR) expansion follows upstream expansion_test.go', () => {
  const ctx = { VAR_A: 'A', VAR_B: 'B', VAR_C: 'C', VAR_REF: '$(VAR_A)', VAR_EMPTY: '' };
  const cases: [string, string, string][] = [
    ['whole string', '$(VAR_A)', 'A'],
    ['repeat', '$(VAR_A)-$(VAR_A)', 'A-A'],
    ['beginning', '$(VAR_A)-1', 'A-1'],
    ['middle', '___$(VAR_B)___', '___B___'],
    ['end', '___$(VAR_C)', '___C'],
    ['compound', '$(VAR_A)_$(VAR_B)_$(VAR_C)', 'A_B_C'],
    ['escape & expand', '$$(VAR_B)_$(VAR_A)', '$(VAR_B)_A'],
    ['compound escape', '$$(VAR_A)_$$(VAR_B)', '$(VAR_A)_$(VAR_B)'],
    ['mixed in escapes', 'f000-$$VAR_A', 'f000-$VAR_A'],
    ['backslash escape ignored', 'foo\\$(VAR_C)bar', 'foo\\Cbar'],
    ['backslash escape ignored twice', 'foo\\\\$(VAR_C)bar', 'foo\\\\Cbar'],
    ['lots of backslashes', 'foo\\\\\\\\$(VAR_A)bar', 'foo\\\\\\\\Abar'],
    ['nested var references', '$(VAR_A$(VAR_B))', '$(VAR_A$(VAR_B))'],
    ['nested var references second type', '$(VAR_A$(VAR_B)', '$(VAR_A$(VAR_B)'],
    ['value is a reference', '$(VAR_REF)', '$(VAR_A)'],
    ['value is a reference x 2', '%%$(VAR_REF)--$(VAR_REF)%%', '%%$(VAR_A)--$(VAR_A)%%'],
    ['empty var', 'foo$(VAR_EMPTY)bar', 'foobar'],
    ['unterminated expression', 'foo$(VAR_Awhoops!', 'foo$(VAR_Awhoops!'],
    ['expression without operator', 'f00__(VAR_A)__', 'f00__(VAR_A)__'],
    ['shell special vars pass through', '$?_boo_$!', '$?_boo_$!'],
    ['bare operators are ignored', '$VAR_A', '$VAR_A'],
    ['undefined vars are passed through', '$(VAR_DNE)', '$(VAR_DNE)'],
    ['multiple (even) operators, var undefined', '$$$$$$(BIG_MONEY)', '$$$(BIG_MONEY)'],
    ['multiple (even) operators, var defined', '$$$$$$(VAR_A)', '$$$(VAR_A)'],
    ['multiple (odd) operators, var undefined', '$$$$$$$(GOOD_ODDS)', '$$$$(GOOD_ODDS)'],
    ['multiple (odd) operators, var defined', '$$$$$$$(VAR_A)', '$$$A'],
    ['missing open expression', '$VAR_A)', '$VAR_A)'],
    ['shell syntax ignored', '${VAR_A}', '${VAR_A}'],
    ['trailing incomplete expression not consumed', '$(VAR_B)_______$(A', 'B_______$(A'],
    ['trailing incomplete expression, no content, is not consumed', '$(VAR_C)_______$(', 'C_______$('],
    ['operator at end of input string is preserved', '$(VAR_A)foobarzab$', 'Afoobarzab$'],
    ['shell escaped incomplete expr', 'foo-\\$(VAR_A', 'foo-\\$(VAR_A'],
    ['lots of $( in middle', '--$($($($($--', '--$($($($($--'],
    ['lots of $( in beginning', '$($($($($--foo$(', '$($($($($--foo$('],
    ['lots of $( at end', 'foo0--$($($($(', 'foo0--$($($($('],
    ['escaped operators in variable names are not escaped', '$(foo$$var)', '$(foo$$var)'],
    ['newline not expanded', '\n', '\n'],
  ];
  for (const [name, input, expected] of cases) assert.equal(expandVars(input, ctx), expected, name);
});

const pod: Pod = {
  metadata: {
    name: 'web-1',
    namespace: 'shop',
    uid: 'u-1',
    labels: { app: 'web', tier: 'front' },
    annotations: { note: 'say "hi"' },
  },
  spec: { nodeName: 'node-a', serviceAccountName: 'builder', containers: [] },
};
const b64 = (s: string) => Buffer.from(s).toString('base64');
const objects: Record<string, object> = {
  'configmaps/shop/app': { data: { MODE: 'fast', URL: 'http://$(HOST)', '1BAD': 'x' } },
  'secrets/shop/creds': { data: { PASSWORD: b64('s3cret'), USER: b64('admin') } },
};
function deps(extra: Partial<EnvDeps> = {}): EnvDeps {
  return {
    get: async (kind, ns, name) => objects[`${kind}/${ns}/${name}`],
    podIP: '10.42.0.7',
    podIPs: ['10.42.0.7'],
    hostIP: '192.168.1.5',
    nodeName: 'node-a',
    nodeAllocatable: { cpu: '8', memory: '16Gi' },
    ...extra,
  };
}
function c(spec: Partial<Container>): Container {
  return { name: 'app', image: 'busybox', ...spec };
}

test('envFrom brings every valid key (with its prefix), skips invalid names with the kubelet warning, and env overrides it', async () => {
  const r = await resolveEnv(pod, c({ envFrom: [{ configMapRef: { name: 'app' } }, { secretRef: { name: 'creds' }, prefix: 'DB_' }], env: [{ name: 'MODE', value: 'slow' }] }), deps());
  assert.ok('env' in r);
  assert.deepEqual(r.env, { MODE: 'slow', URL: 'http://$(HOST)', DB_PASSWORD: 's3cret', DB_USER: 'admin' });
  assert.deepEqual(r.warnings, [
    'Keys [1BAD] from the EnvFrom configMap shop/app were skipped since they are considered invalid environment variable names.',
  ]);
});

test('env values expand references to variables defined before them, and to service links, but not after', async () => {
  const r = await resolveEnv(
    pod,
    c({
      env: [
        { name: 'A', value: 'one' },
        { name: 'B', value: '$(A)-two-$(C)' },
        { name: 'C', value: 'three' },
        { name: 'D', value: '$(WEB_SERVICE_HOST):$(B)' },
      ],
    }),
    deps({ serviceEnv: { WEB_SERVICE_HOST: '10.43.0.9', A: 'service-a' } }),
  );
  assert.ok('env' in r);
  assert.equal(r.env.B, 'one-two-$(C)');
  assert.equal(r.env.D, '10.43.0.9:one-two-$(C)');
  assert.equal(r.env.A, 'one', 'the pod wins over a service link of the same name');
  assert.equal(r.env.WEB_SERVICE_HOST, '10.43.0.9');
});

test('valueFrom reads configMap and secret keys, and skips optional ones that are missing', async () => {
  const r = await resolveEnv(
    pod,
    c({
      env: [
        { name: 'M', valueFrom: { configMapKeyRef: { name: 'app', key: 'MODE' } } },
        { name: 'P', valueFrom: { secretKeyRef: { name: 'creds', key: 'PASSWORD' } } },
        { name: 'X', valueFrom: { configMapKeyRef: { name: 'gone', key: 'k', optional: true } } },
        { name: 'Y', valueFrom: { secretKeyRef: { name: 'creds', key: 'nope', optional: true } } },
      ],
      envFrom: [{ configMapRef: { name: 'absent', optional: true } }],
    }),
    deps(),
  );
  assert.ok('env' in r);
  assert.deepEqual(r.env, { M: 'fast', P: 's3cret' });
});

test('the downward API gives pod fields, node facts and addresses', async () => {
  const field = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });
  const r = await resolveEnv(
    pod,
    c({
      env: [
        field('NAME', 'metadata.name'),
        field('NS', 'metadata.namespace'),
        field('UID', 'metadata.uid'),
        field('APP', "metadata.labels['app']"),
        field('NOTE', "metadata.annotations['note']"),
        field('LABELS', 'metadata.labels'),
        field('ANN', 'metadata.annotations'),
        field('NODE', 'spec.nodeName'),
        field('SA', 'spec.serviceAccountName'),
        field('HOST_IP', 'status.hostIP'),
        field('HOST_IPS', 'status.hostIPs'),
        field('POD_IP', 'status.podIP'),
        field('POD_IPS', 'status.podIPs'),
      ],
    }),
    deps({ podIPs: ['10.42.0.7', 'fd00::7'] }),
  );
  assert.ok('env' in r);
  assert.deepEqual(r.env, {
    NAME: 'web-1',
    NS: 'shop',
    UID: 'u-1',
    APP: 'web',
    NOTE: 'say "hi"',
    LABELS: 'app="web"\ntier="front"',
    ANN: 'note="say \\"hi\\""',
    NODE: 'node-a',
    SA: 'builder',
    HOST_IP: '192.168.1.5',
    HOST_IPS: '192.168.1.5',
    POD_IP: '10.42.0.7',
    POD_IPS: '10.42.0.7,fd00::7',
  });
});

test('resourceFieldRef divides and rounds up, and an unset limit is the node allocatable', async () => {
  const res = (name: string, resource: string, divisor?: string) => ({ name, valueFrom: { resourceFieldRef: { resource, ...(divisor ? { divisor } : {}) } } });
  const r = await resolveEnv(
    pod,
    c({
      resources: { limits: { cpu: '1500m', memory: '128Mi' }, requests: { cpu: '250m', memory: '64Mi' } },
      env: [
        res('CPU_LIMIT', 'limits.cpu'),
        res('CPU_LIMIT_M', 'limits.cpu', '1m'),
        res('CPU_REQ', 'requests.cpu'),
        res('MEM_LIMIT', 'limits.memory'),
        res('MEM_LIMIT_MI', 'limits.memory', '1Mi'),
        res('MEM_REQ_MI', 'requests.memory', '1Mi'),
      ],
    }),
    deps(),
  );
  assert.ok('env' in r);
  assert.deepEqual(r.env, { CPU_LIMIT: '2', CPU_LIMIT_M: '1500', CPU_REQ: '1', MEM_LIMIT: String(128 * 2 ** 20), MEM_LIMIT_MI: '128', MEM_REQ_MI: '64' });

  const unset = await resolveEnv(pod, c({ env: [res('CPU', 'limits.cpu'), res('MEM', 'limits.memory', '1Gi'), res('REQ', 'requests.cpu')] }), deps());
  assert.ok('env' in unset);
  assert.deepEqual(unset.env, { CPU: '8', MEM: '16', REQ: '0' });
});

test('a missing source fails with the message the kubelet puts in CreateContainerConfigError', async () => {
  const cases: [string, Partial<Container>, string][] = [
    ['missing configMap in envFrom', { envFrom: [{ configMapRef: { name: 'x' } }] }, 'configmap "x" not found'],
    ['missing secret in envFrom', { envFrom: [{ secretRef: { name: 's' } }] }, 'secret "s" not found'],
    ['missing configMap in valueFrom', { env: [{ name: 'A', valueFrom: { configMapKeyRef: { name: 'x', key: 'k' } } }] }, 'configmap "x" not found'],
    ['missing configMap key', { env: [{ name: 'A', valueFrom: { configMapKeyRef: { name: 'app', key: 'k' } } }] }, "couldn't find key k in ConfigMap shop/app"],
    ['missing secret key', { env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 'creds', key: 'k' } } }] }, "couldn't find key k in Secret shop/creds"],
    ['unknown resource', { env: [{ name: 'A', valueFrom: { resourceFieldRef: { resource: 'limits.gpu' } } }] }, 'unsupported container resource : limits.gpu'],
  ];
  for (const [name, spec, error] of cases) assert.deepEqual(await resolveEnv(pod, c(spec), deps()), { error }, name);
});

test('a failing lookup becomes the error, not a throw', async () => {
  const r = await resolveEnv(pod, c({ envFrom: [{ configMapRef: { name: 'app' } }] }), deps({ get: async () => Promise.reject(new Error('connection refused')) }));
  assert.deepEqual(r, { error: 'connection refused' });
});

test('argv is command + args expanded, and a container without a command is refused', () => {
  const env = { NAME: 'world', PORT: '8080' };
  const cases: [string, Partial<Container>, string[] | { error: string }][] = [
    ['command and args', { command: ['sh', '-c'], args: ['echo hello $(NAME) on $$(PORT) $(PORT)'] }, ['sh', '-c', 'echo hello world on $(PORT) 8080']],
    ['command alone', { command: ['python3', '-m', 'http.server', '$(PORT)'] }, ['python3', '-m', 'http.server', '8080']],
    ['args without command run as the command line (an image without ENTRYPOINT)', { args: ['sh', '-c', 'echo $(NAME)'] }, ['sh', '-c', 'echo world']],
    [
      'args for an entrypoint (a flag first)',
      { args: ['--port', '80'] },
      { error: `container "app": this runtime needs a command: the process runtime runs commands on the node and cannot read image "busybox"'s entrypoint` },
    ],
    [
      'neither',
      {},
      { error: `container "app": this runtime needs a command: the process runtime runs commands on the node and cannot read image "busybox"'s entrypoint` },
    ],
  ];
  for (const [name, spec, want] of cases) assert.deepEqual(containerArgv(c(spec), env), want, name);
});
