// The local node across a crash: `kill -9` of `skiff up` takes the containers with it (they die
// with the agent), a restart cleans what the dead agent left and runs the pod again with its IP
// and an honest restart count, and a clean stop leaves no process, network namespace, bridge,
// cgroup or mount of this node on the machine.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { instanceId } from '../../src/node/runtime/process.js';
import { until } from '../support/eventually.js';
import { localNodeFlags, startSkiff, type Skiff } from './harness.js';

function processesRunning(marker: string): boolean {
  return execFileSync('ps', ['-eo', 'args']).toString().split('\n').some((l) => l.includes(marker));
}

/** Everything on this machine that carries the node's instance id. */
function leftovers(inst: string): string[] {
  const found: string[] = [];
  const netns = existsSync('/var/run/netns') ? readdirSync('/var/run/netns') : [];
  found.push(...netns.filter((n) => n.includes(inst)).map((n) => `netns ${n}`));
  found.push(...readdirSync('/sys/class/net').filter((n) => n.includes(inst)).map((n) => `link ${n}`));
  for (const root of ['/sys/fs/cgroup/memory/skiff', '/sys/fs/cgroup/pids/skiff', '/sys/fs/cgroup/cpu/skiff', '/sys/fs/cgroup/unified/skiff', '/sys/fs/cgroup/skiff']) {
    if (existsSync(join(root, inst))) found.push(`cgroup ${join(root, inst)}`);
  }
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes('/skiff-e2e-') && l.includes('/node/'));
  found.push(...mounts.map((m) => `mount ${m}`));
  return found;
}

describe('the local node across a crash and a clean stop', { timeout: 180_000 }, () => {
  let s: Skiff;
  let inst = '';
  before(async () => {
    s = await startSkiff(localNodeFlags());
    inst = instanceId(join(s.dataDir, 'node'));
  });
  after(async () => {
    await s?.stop();
  });

  const marker = `sleep ${3000 + (process.pid % 500)}`;
  let ip = '';

  it('runs a pod', async () => {
    const r = await s.kubectl(['run', 'survivor', '--image=busybox', '--', ...marker.split(' ')]);
    assert.equal(r.code, 0, r.stderr);
    ip = await until(async () => {
      const p = JSON.parse((await s.kubectl(['get', 'pod', 'survivor', '-o', 'json'])).stdout);
      assert.equal(p.status.phase, 'Running');
      return p.status.podIP as string;
    });
    assert.ok(processesRunning(marker));
  });

  it('kill -9 of skiff up takes the containers with it', async () => {
    await s.kill('SIGKILL');
    await until(() => assert.equal(processesRunning(marker), false), { timeoutMs: 10_000 });
  });

  it('a restarted node cleans up and runs the pod again, with the same IP and one restart', async () => {
    await s.restart();
    await until(async () => {
      const p = JSON.parse((await s.kubectl(['get', 'pod', 'survivor', '-o', 'json'])).stdout);
      assert.equal(p.status.phase, 'Running');
      const c = p.status.containerStatuses[0];
      assert.ok(c.state.running, JSON.stringify(c));
      assert.equal(c.restartCount, 1);
      assert.equal(c.lastState.terminated.exitCode, 137);
      assert.equal(p.status.podIP, ip);
    });
    assert.ok(processesRunning(marker));
    const netns = readdirSync('/var/run/netns').filter((n) => n.includes(inst));
    assert.equal(netns.length, 1, netns.join(' '));
  });

  it('a clean stop leaves nothing of the node on the machine', async () => {
    assert.ok(leftovers(inst).length > 0, 'the running node has a bridge, a namespace and cgroups');
    await s.kill('SIGTERM');
    assert.deepEqual(leftovers(inst), []);
    assert.equal(processesRunning(marker), false);
  });
});
