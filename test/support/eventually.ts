// Waiting for state, not time: polls `cond` until it holds, failing with `what` after `limitMs`.
// Tests assert what happened; the limit only bounds how long a broken run takes to say so.
import assert from 'node:assert/strict';

export async function eventually(what: string, cond: () => boolean | Promise<boolean>, limitMs = 30_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await cond())) {
    if (Date.now() > deadline) assert.fail(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Calls `fn` until it stops throwing (an assertion holds), returning its value; after `timeoutMs`
 * the last failure is rethrown, so the test says what was still wrong.
 */
export async function until<T>(fn: () => T | Promise<T>, opts: { timeoutMs?: number; intervalMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
    }
  }
}
