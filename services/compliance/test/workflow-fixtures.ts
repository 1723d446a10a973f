/**
 * Rows the alert workflow works on, written the way their owners write them: alerts as the scan
 * flow stores them (sealed detail bound to the alert), channels as the portal stores them (sealed
 * target bound to the channel), the org tree as the directory load does.
 */
import { randomBytes } from 'node:crypto';
import type { AlertSeverity, LexiconCategory, NotificationChannelKind } from '@cz/contracts';
import { sealBuffer, sealedKeyInfo, type KeyProvider } from '@cz/common/crypto';
import type { TestDatabase } from '@cz/testkit';
import { notificationChannelBinding, SEVERITY_RANK, type ChannelTarget } from '../src/workflow/channels';

export const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** What an alert's sealed detail holds in these tests: the matched term must never leave the service. */
export const SECRET_TERM = '保本保息稳赚不赔';
export const SECRET_EMPLOYEE = 'emp-secret-7788';

export interface AlertFixture {
  corpId: string;
  category?: LexiconCategory;
  severity?: AlertSeverity;
  status?: string;
  recordTime?: Date;
  dueAt?: Date | null;
  orgUnitId?: string | null;
  conversationId?: string | null;
  notified?: boolean;
}

export async function insertAlert(
  db: TestDatabase,
  keys: KeyProvider,
  fixture: AlertFixture,
): Promise<string> {
  const id = hex(32);
  const category = fixture.category ?? 'complaint';
  const severity = fixture.severity ?? 'warning';
  const sealed = await sealBuffer(
    Buffer.from(JSON.stringify({ hits: [{ term: SECRET_TERM, start: 0, end: 4 }], explanation: '…' })),
    keys,
    'audit',
    { kind: 'compliance_alert', corp: fixture.corpId, id },
  );
  const { kekId, kekVersion } = sealedKeyInfo(sealed);
  const now = new Date();
  await db.query(
    `INSERT INTO compliance_alert (id, corp_id, kind, category, severity, severity_rank, rule_id, lexicon_version,
       record_kind, msgid, doc_time, conversation_id, employee, org_unit_id, assigned_org_unit_id, status,
       raised_at, due_at, updated_at, kek_id, kek_version, sealed_detail, published_at, notified_at)
     VALUES (?, ?, ?, ?, ?, ?, 'cp-001', 1, 'message', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      id,
      fixture.corpId,
      `lexicon.${category}`,
      category,
      severity,
      SEVERITY_RANK[severity],
      `msg-${hex(4)}`,
      fixture.recordTime ?? now,
      fixture.conversationId ?? null,
      SECRET_EMPLOYEE,
      fixture.orgUnitId ?? null,
      fixture.orgUnitId ?? null,
      fixture.status ?? 'open',
      now,
      fixture.dueAt === undefined ? new Date(now.getTime() + 3600000) : fixture.dueAt,
      now,
      kekId,
      kekVersion,
      sealed,
      now,
      fixture.notified ? now : null,
    ],
  );
  return id;
}

export interface ChannelFixture {
  kind: NotificationChannelKind;
  target: ChannelTarget;
  minSeverity?: AlertSeverity;
  categories?: LexiconCategory[];
  onEscalation?: boolean;
  enabled?: boolean;
}

export async function insertChannel(
  db: TestDatabase,
  keys: KeyProvider,
  fixture: ChannelFixture,
): Promise<string> {
  const id = hex(16);
  const sealed = await sealBuffer(
    Buffer.from(JSON.stringify(fixture.target)),
    keys,
    'audit',
    notificationChannelBinding(id),
  );
  const { kekId, kekVersion } = sealedKeyInfo(sealed);
  const origin = fixture.target.url ? new URL(fixture.target.url).origin : 'smtp';
  const now = new Date();
  await db.query(
    `INSERT INTO notification_channel (id, name, kind, target_origin, kek_id, kek_version, sealed_target, min_severity,
       categories, on_escalation, enabled, created_by, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'test', ?, ?)`,
    [
      id,
      `channel ${id.slice(0, 6)}`,
      fixture.kind,
      origin,
      kekId,
      kekVersion,
      sealed,
      fixture.minSeverity ?? 'info',
      JSON.stringify(fixture.categories ?? []),
      fixture.onEscalation ? 1 : 0,
      fixture.enabled === false ? 0 : 1,
      now,
      now,
    ],
  );
  return id;
}

/** 总行 hq → 浦东分行 pudong → 陆家嘴支行 lujiazui */
export async function insertOrgTree(db: TestDatabase, corpId: string): Promise<void> {
  const now = new Date();
  for (const [id, parent, path, depth] of [
    ['hq', null, '/hq/', 0],
    ['pudong', 'hq', '/hq/pudong/', 1],
    ['lujiazui', 'pudong', '/hq/pudong/lujiazui/', 2],
  ] as const) {
    await db.query(
      'INSERT INTO org_unit (corp_id, id, parent_id, name, path, depth, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [corpId, id, parent, id, path, depth, now],
    );
  }
}
