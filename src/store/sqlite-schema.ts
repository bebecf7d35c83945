// The SQLite store's schema and prepared statements (kine's layout, trimmed to one process).
//
// `log` is the history: one row per write, and its INTEGER PRIMARY KEY is the global revision, so
// appending a row *is* taking the next revision. A delete is a row too (deleted = 1) carrying the
// key's last value, which makes it a complete DELETE event. `prev_revision` links a row to the one
// it superseded in the same life of the key (0 for a create), which gives every event its prevKv.
// `current` maps each live key to its latest row, so latest reads never scan history; it holds only
// the revision (the value lives once, in `log`) to keep each write small.
// `meta` holds the compacted revision. The current revision is not stored: it is the highest of
// max(log.rev) and the compacted revision (compaction may remove the newest row if it is a delete).

import type Database from 'better-sqlite3';

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS log (
  rev INTEGER PRIMARY KEY,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  create_revision INTEGER NOT NULL,
  prev_revision INTEGER NOT NULL,
  deleted INTEGER NOT NULL
);
-- Reads at an old revision ("newest row per key at or below R") and compaction walk this index.
CREATE INDEX IF NOT EXISTS log_key_rev ON log (key, rev);
CREATE TABLE IF NOT EXISTS current (
  key TEXT PRIMARY KEY,
  rev INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
`;

/** A row of a latest or historical read, in `raw` (array) form: [key, value, create_revision, rev]. */
export type KvRow = [string, string, number, number];

/** A replayed event row: [rev, key, value, create_revision, deleted, prev_rev, prev_value, prev_create_revision]. */
export type EventRow = [number, string, string, number, number, number | null, string | null, number | null];

/** A key range for SQL: keys >= lower (or > lower when `exclusive`), and < upper when given. */
export interface KeyRange {
  lower: string;
  exclusive: boolean;
  upper: string | undefined;
}

/**
 * The smallest string greater than every string starting with `prefix` (undefined: no bound).
 * Keys are compared by SQLite as UTF-8 bytes; for the ASCII keys the apiserver writes that equals
 * JavaScript's order, and bumping the last code unit is a correct bound in both.
 */
export function prefixEnd(prefix: string): string | undefined {
  let p = prefix;
  while (p.length > 0) {
    const last = p.charCodeAt(p.length - 1);
    if (last < 0xffff) return p.slice(0, -1) + String.fromCharCode(last + 1);
    p = p.slice(0, -1);
  }
  return undefined;
}

/** The range of keys starting with `prefix`, strictly after `after` if given. */
export function keyRange(prefix: string, after?: string): KeyRange {
  const upper = prefixEnd(prefix);
  if (after !== undefined && after >= prefix) return { lower: after, exclusive: true, upper };
  return { lower: prefix, exclusive: false, upper };
}

function rangeSql(col: string, r: KeyRange): string {
  return `${col} ${r.exclusive ? '>' : '>='} @lower` + (r.upper === undefined ? '' : ` AND ${col} < @upper`);
}

function rangeParams(r: KeyRange): Record<string, string> {
  return r.upper === undefined ? { lower: r.lower } : { lower: r.lower, upper: r.upper };
}

/**
 * Prepared statements, made once per connection. Range queries come in a few SQL shapes (with or
 * without an upper bound, > or >=) so SQLite can always seek the index; each shape is prepared on
 * first use and cached.
 */
export class Statements {
  readonly getCurrent: Database.Statement<[string], KvRow>;
  readonly insertLog: Database.Statement<[number, string, string, number, number, number]>;
  readonly insertCurrent: Database.Statement<[string, number]>;
  readonly updateCurrent: Database.Statement<[number, string]>;
  readonly deleteCurrent: Database.Statement<[string]>;
  readonly maxRev: Database.Statement<[], number | null>;
  readonly minRev: Database.Statement<[], number | null>;
  readonly getMeta: Database.Statement<[string], number>;
  readonly setMeta: Database.Statement<[string, number]>;
  /** Deletes history rows in (lo, hi] that compaction to `c` drops: see SqliteStore.compact. */
  readonly compactRange: Database.Statement<{ lo: number; hi: number; c: number }>;
  readonly logRows: Database.Statement<[], number>;
  private readonly cache = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {
    this.getCurrent = db
      .prepare<[string], KvRow>('SELECT c.key, l.value, l.create_revision, l.rev FROM current c JOIN log l ON l.rev = c.rev WHERE c.key = ?')
      .raw(true);
    this.insertLog = db.prepare('INSERT INTO log (rev, key, value, create_revision, prev_revision, deleted) VALUES (?, ?, ?, ?, ?, ?)');
    this.insertCurrent = db.prepare('INSERT INTO current (key, rev) VALUES (?, ?)');
    this.updateCurrent = db.prepare('UPDATE current SET rev = ? WHERE key = ?');
    this.deleteCurrent = db.prepare('DELETE FROM current WHERE key = ?');
    this.maxRev = db.prepare<[], number | null>('SELECT max(rev) FROM log').pluck(true);
    this.minRev = db.prepare<[], number | null>('SELECT min(rev) FROM log').pluck(true);
    this.getMeta = db.prepare<[string], number>('SELECT value FROM meta WHERE name = ?').pluck(true);
    this.setMeta = db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value');
    // A row at or below c goes if it is a delete, or if its key has a newer row at or below c.
    this.compactRange = db.prepare(
      `DELETE FROM log WHERE rev > @lo AND rev <= @hi AND (deleted = 1 OR rev <
         (SELECT max(m.rev) FROM log m WHERE m.key = log.key AND m.rev <= @c))`,
    );
    this.logRows = db.prepare<[], number>('SELECT count(*) FROM log').pluck(true);
  }

  /** Live keys in range, key order, at most `limit` (≤ 0: all). */
  listLatest(r: KeyRange, limit: number): KvRow[] {
    const sql = `SELECT c.key, l.value, l.create_revision, l.rev FROM current c JOIN log l ON l.rev = c.rev
      WHERE ${rangeSql('c.key', r)} ORDER BY c.key LIMIT @limit`;
    return this.shape<KvRow>(sql).all({ ...rangeParams(r), limit: limit > 0 ? limit : -1 });
  }

  /** Keys in range live at revision `at` (their newest row at or below it is not a delete). */
  listAt(r: KeyRange, at: number, limit: number): KvRow[] {
    // SQLite returns the bare columns of the row holding max(rev) in each group.
    const sql = `SELECT key, value, create_revision, rev FROM (
        SELECT key, value, create_revision, max(rev) AS rev, deleted FROM log
        WHERE ${rangeSql('key', r)} AND rev <= @at GROUP BY key
      ) WHERE deleted = 0 ORDER BY key LIMIT @limit`;
    return this.shape<KvRow>(sql).all({ ...rangeParams(r), at, limit: limit > 0 ? limit : -1 });
  }

  count(r: KeyRange): number {
    const sql = `SELECT count(*) FROM current WHERE ${rangeSql('key', r)}`;
    return this.shape<number>(sql, true).get(rangeParams(r))!;
  }

  /** History rows with rev > after in range, revision order, joined with the row each superseded. */
  events(r: KeyRange, after: number): EventRow[] {
    // `+l.key` keeps SQLite off the key index: a watch replays from a recent revision, so walking
    // the primary key from `after` reads the fewest rows.
    const sql = `SELECT l.rev, l.key, l.value, l.create_revision, l.deleted, p.rev, p.value, p.create_revision
      FROM log l LEFT JOIN log p ON p.rev = l.prev_revision AND l.prev_revision > 0
      WHERE l.rev > @after AND ${rangeSql('+l.key', r)} ORDER BY l.rev`;
    return this.shape<EventRow>(sql).all({ ...rangeParams(r), after });
  }

  private shape<R>(sql: string, pluck = false): Database.Statement<Record<string, unknown>, R> {
    let st = this.cache.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      if (pluck) st.pluck(true);
      else st.raw(true);
      this.cache.set(sql, st);
    }
    return st as Database.Statement<Record<string, unknown>, R>;
  }
}
