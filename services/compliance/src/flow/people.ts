import type { DataSource, EntityManager } from 'typeorm';
import type { ScanRecord } from './records';

/** WeCom external contacts' ids (customers) start like this; employees' userids do not. */
const EXTERNAL_ID = /^w[mob][A-Za-z0-9_-]/;

export interface Subject {
  employee: string | null;
  orgUnitId: string | null;
}

/**
 * Who each record's alert is about, from the directory (`employee`): the sender when they are an
 * employee, else the first employee recipient; a call's agent, an event's staff member. Someone
 * not (yet) in the directory still counts when they are not an external contact, without an org unit.
 */
export async function resolveSubjects(
  db: DataSource | EntityManager,
  records: readonly ScanRecord[],
): Promise<Map<ScanRecord, Subject>> {
  const wanted = new Map<string, Set<string>>();
  for (const r of records) {
    const set = wanted.get(r.corpId) ?? new Set<string>();
    wanted.set(r.corpId, set);
    for (const p of r.people) set.add(p);
  }
  const directory = new Map<string, string | null>();
  for (const [corpId, people] of wanted) {
    const ids = [...people];
    for (let i = 0; i < ids.length; i += 500) {
      const part = ids.slice(i, i + 500);
      if (part.length === 0) continue;
      const rows = await db.query<{ userid: string; org_unit_id: string | null }[]>(
        `SELECT userid, org_unit_id FROM employee WHERE corp_id = ? AND userid IN (${part.map(() => '?').join(',')})`,
        [corpId, ...part],
      );
      for (const row of rows) directory.set(`${corpId}\u0000${row.userid}`, row.org_unit_id);
    }
  }
  const subjects = new Map<ScanRecord, Subject>();
  for (const r of records) {
    const known = r.people.find((p) => directory.has(`${r.corpId}\u0000${p}`));
    if (known !== undefined) {
      subjects.set(r, { employee: known, orgUnitId: directory.get(`${r.corpId}\u0000${known}`) ?? null });
      continue;
    }
    const fallback = r.employeeKnown ? r.people[0] : r.people.find((p) => !EXTERNAL_ID.test(p));
    subjects.set(r, { employee: fallback ?? null, orgUnitId: null });
  }
  return subjects;
}

/**
 * ASR transcripts carry neither the agent nor the call's start: the archived CDR has them (if it
 * is archived yet). Fills them in place.
 */
export async function completeCallRecords(
  db: DataSource | EntityManager,
  records: ScanRecord[],
): Promise<void> {
  const incomplete = records.filter((r) => r.kind === 'call' && r.people.length === 0);
  if (incomplete.length === 0) return;
  const rows = await db.query<{ id: string; agent_id: string; start_time: Date }[]>(
    `SELECT id, agent_id, start_time FROM call_record WHERE id IN (${incomplete.map(() => '?').join(',')})`,
    incomplete.map((r) => r.docId),
  );
  const byId = new Map(rows.map((row) => [row.id, row]));
  for (const r of incomplete) {
    const row = byId.get(r.docId);
    if (!row) continue;
    r.people = [row.agent_id];
    r.employeeKnown = true;
    r.docTime = row.start_time;
  }
}
